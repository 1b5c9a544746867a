"""End to end over real HTTP: signed Slack requests -> waitress -> Bolt -> paperbot -> the Slack emulator.

Each test starts the real server on 127.0.0.1:0 with the real services (archive, search index, channel
settings) on a temporary data directory, drives it like Slack does, and asserts what the user would see:
the posts to the response URL and the Web API calls. The fixture also fails any test in which the bot sent
Slack something it would reject.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from typing import Any

import pytest
import requests
from slack_driver import SlackStack, buttons, wait_until

from bot.papers import new_record

pytestmark = pytest.mark.e2e

INJECTED_TITLE = "<!channel> Free GPUs for everyone <@U0ATTACKER> & <https://evil.example|click>"


def corpus() -> list[dict[str, Any]]:
    papers = [
        new_record(
            "2405.10001", source="hf", title="Diffusion Transformers for\n  Long Video Generation",
            abstract="We scale diffusion transformers to minute-long video generation with a sparse "
                     "spatio-temporal attention and a curriculum over clip length. " * 4,
            authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov"],
            published="2024-05-16T17:59:59Z", upvotes=87, hf_date="2024-05-17",
            links={"hf": "https://huggingface.co/papers/2405.10001", "github": "https://github.com/example/dit-video"},
        ),
        new_record(
            "2405.10002", source="hf", title=INJECTED_TITLE,
            abstract="<!here> please read: attention sinks explain the massive activations of language models.",
            authors=["<@U0ATTACKER>", "Mallory"], published="2024-05-15T00:00:00Z", upvotes=3,
        ),
        new_record(
            "2405.10003", source="arxiv", title="Maschinelle Übersetzung für Kölsch mit 日本語 Vorwissen 🚀",
            abstract="Wir untersuchen neuronale Übersetzung für Dialekte mit wenig Daten.",
            authors=["José Müller", "Zoë Ångström"], published="2024-05-14T00:00:00Z",
        ),
    ]
    for i in range(12):
        papers.append(new_record(
            f"2405.{20000 + i}", source="arxiv", title=f"Equivariant graph neural networks for molecules, part {i}",
            abstract="Message passing graph neural networks predict molecular properties from 3D structure.",
            authors=[f"Author {i}"], published=f"2024-04-{i + 1:02d}T00:00:00Z",
        ))
    return papers


@pytest.fixture
def stack(slack_stack_factory: Any) -> SlackStack:
    return slack_stack_factory(corpus())


def texts(message: dict[str, Any]) -> str:
    """Everything readable in a message: its fallback and every text in its blocks."""
    parts = [message.get("text", "")]
    for block in message.get("blocks", []):
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            parts.append(element.get("text") if isinstance(element.get("text"), str) else
                         element.get("text", {}).get("text", ""))
    return "\n".join(parts)


def paper_ids(message: dict[str, Any]) -> list[str]:
    return [b["block_id"].split(":", 1)[1] for b in message.get("blocks", [])
            if b.get("block_id", "").startswith("paper:")]


# --- the HTTP surface ---------------------------------------------------------------------------------------


def test_health_check_and_unknown_routes(stack: SlackStack) -> None:
    base = stack.server.url
    health = requests.get(base + "/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["ok"] is True
    assert requests.get(base + "/slack/events", timeout=5).status_code == 405
    assert requests.post(base + "/healthz", timeout=5).status_code == 405
    assert requests.get(base + "/admin", timeout=5).status_code == 404
    assert stack.slack.calls_to("auth.test"), "the token was checked against SLACK_API_URL at start-up"


def test_unsigned_wrongly_signed_and_stale_requests_get_401(stack: SlackStack) -> None:
    driver = stack.driver
    now = int(time.time())
    rejected = [
        driver.command("help", signed=False),
        driver.command("help", secret="not-the-signing-secret"),
        driver.command("help", timestamp=now - 301),
        driver.command("help", timestamp=now + 301),
        driver.event({"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}, signed=False),
    ]
    body, _ = driver.command_body("help")
    tampered = body.replace(b"text=help", b"text=watch+x")
    headers = {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": driver_sign(stack, now, body)}
    tampered_response = requests.post(driver.endpoint, data=tampered, timeout=5,
                                      headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert [s.response.status_code for s in rejected] + [tampered_response.status_code] == [401] * 6
    valid = driver.command("help", timestamp=now - 200)
    assert valid.response.status_code == 200, "within 5 minutes is fine"
    assert valid.response_url is not None
    stack.slack.wait_for_responses(valid.response_url)  # under load the answer may take a while
    stack.settle()
    assert len(stack.slack.response_posts) == 1, "only the valid request was answered"
    assert stack.services.channels.topics("C0GENERAL") == []
    assert not stack.slack.calls_to("views.publish")


def driver_sign(stack: SlackStack, ts: int, body: bytes) -> str:
    from slack_driver import sign

    return sign(stack.driver.signing_secret, ts, body)


def test_url_verification_echoes_the_challenge(stack: SlackStack) -> None:
    response = stack.driver.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


# --- search -------------------------------------------------------------------------------------------------


def test_bare_search_is_acked_at_once_and_answered_ephemerally(stack: SlackStack) -> None:
    sent = stack.driver.command("diffusion transformers video")
    assert sent.response.status_code == 200
    assert sent.response.text == "", "the ack posts nothing in the channel"
    assert sent.elapsed < 1.0
    reply = stack.slack.wait_for_responses(sent.response_url)[0]
    assert reply["response_type"] == "ephemeral"
    assert paper_ids(reply)[0] == "2405.10001"
    first = reply["blocks"][paper_ids_index(reply, "2405.10001")]["text"]["text"]
    assert first.startswith("*<https://arxiv.org/abs/2405.10001|Diffusion Transformers for Long Video Generation>*")
    assert "Ada Lovelace, Alan Turing, Grace Hopper et al. · 2024-05-16 · 87 upvotes" in first
    assert "<https://arxiv.org/pdf/2405.10001|PDF>" in first
    assert "<https://huggingface.co/papers/2405.10001|Hugging Face>" in first
    assert "<https://github.com/example/dit-video|Code>" in first
    assert "We scale diffusion transformers" in first and first.endswith("…")
    [(_, save)] = [(bid, btn) for bid, btn in buttons(reply, "paper_save") if btn["value"] == "2405.10001"]
    assert save["text"]["text"] == "Save"
    assert any(btn["value"] == "2405.10001" for _, btn in buttons(reply, "paper_share"))
    assert "Only you can see these results" in texts(reply)


def paper_ids_index(message: dict[str, Any], paper_id: str) -> int:
    return next(i for i, b in enumerate(message["blocks"]) if b.get("block_id") == f"paper:{paper_id}")


def test_a_pasted_arxiv_link_finds_the_paper(stack: SlackStack) -> None:
    # Slack wraps links it recognises in <...>; the bot unwraps them before searching.
    for text in ("<https://arxiv.org/abs/2405.10001v2>", "<https://huggingface.co/papers/2405.10001|hf.co>",
                 "2405.10001"):
        assert paper_ids(stack.driver.ask(text))[:1] == ["2405.10001"], text


def test_search_subcommand_and_paging_through_results(stack: SlackStack) -> None:
    reply = stack.driver.ask("search equivariant graph neural networks molecules")
    first_page = paper_ids(reply)
    assert len(first_page) == 5 and all(pid.startswith("2405.2") for pid in first_page)
    assert "*12 papers* match" in texts(reply)
    [(block_id, next_button)] = buttons(reply, "search_page_next")
    assert next_button["text"]["text"] == "Next 5"
    clicked = stack.driver.click(next_button, block_id=block_id)
    assert clicked.response.status_code == 200
    second = stack.slack.wait_for_responses(clicked.response_url)[0]
    assert second["replace_original"] is True, "the result list is replaced in place"
    assert len(paper_ids(second)) == 5 and not set(paper_ids(second)) & set(first_page)
    assert {b["text"]["text"] for _, b in buttons(second)} >= {"Previous", "Next 2"}


def test_injection_in_a_title_and_in_the_query_reaches_slack_inert(stack: SlackStack) -> None:
    slack = stack.slack
    by_title = stack.driver.ask("attention sinks massive activations")
    assert "2405.10002" in paper_ids(by_title)
    shown = texts(by_title)
    assert "&lt;!channel&gt; Free GPUs for everyone &lt;@U0ATTACKER&gt; &amp; &lt;https://evil.example|click&gt;" \
        in shown
    assert "&lt;!here&gt; please read" in shown
    # The query as an attacker would post it raw, and as Slack sends what a user typed (escaped).
    for query in ("<!channel> <!here> <@U0ATTACKER> graph", "&lt;!channel&gt; &lt;@U0ATTACKER&gt; graph"):
        reply = stack.driver.ask(query)
        assert "&lt;!channel&gt;" in texts(reply)
        assert "<!channel>" not in json.dumps(reply) and "<@U0ATTACKER>" not in json.dumps(reply)
    watch = stack.driver.ask("watch <!everyone> diffusion")
    assert "&lt;!everyone&gt; diffusion" in texts(watch)
    assert slack.broadcast_mentions() == []


def test_a_10000_character_query_gets_a_friendly_reply(stack: SlackStack) -> None:
    query = ("transformer " * 1000)[:10_000]
    sent = stack.driver.command(query)
    assert sent.response.status_code == 200 and sent.elapsed < 1.0
    reply = stack.slack.wait_for_responses(sent.response_url)[0]
    assert reply["response_type"] == "ephemeral"
    assert "went wrong" not in texts(reply)
    assert len(json.dumps(reply)) < 4000, "the reply does not echo the whole query back"


def test_empty_text_gets_help_and_an_empty_search_gets_an_example(stack: SlackStack) -> None:
    help_reply = stack.driver.ask("")
    assert "/papers watch &lt;topic&gt;" in texts(help_reply)
    usage = stack.driver.ask("search   ")
    assert "Tell me what to look for" in texts(usage)


def test_unicode_queries_and_titles(stack: SlackStack) -> None:
    reply = stack.driver.ask("Übersetzung Kölsch")
    assert "2405.10003" in paper_ids(reply)
    assert "Maschinelle Übersetzung für Kölsch mit 日本語 Vorwissen 🚀" in texts(reply)
    assert "José Müller, Zoë Ångström" in texts(reply)
    for query in ("日本語", "🚀🚀🚀", "naïve café"):
        answer = stack.driver.ask(query)
        assert answer["response_type"] == "ephemeral" and "went wrong" not in texts(answer)


# --- help, typos, not-yet-available -------------------------------------------------------------------------


def test_help_and_did_you_mean(stack: SlackStack) -> None:
    assert "/papers topics" in texts(stack.driver.ask("help"))
    typo = texts(stack.driver.ask("wtach diffusion models"))
    assert "Did you mean `/papers watch diffusion models`?" in typo
    assert "`/papers search wtach diffusion models`" in typo
    assert stack.services.channels.topics("C0GENERAL") == [], "a typo changes nothing"


# --- topics -------------------------------------------------------------------------------------------------


def test_watch_topics_unwatch(stack: SlackStack) -> None:
    ask = stack.driver.ask
    added = ask("watch   Diffusion   Models")
    assert added["response_type"] == "in_channel"
    assert "<@U0ALICE> added “Diffusion Models” to this channel's topics." in texts(added)
    again = ask("watch diffusion models", user_id="U0BOB")
    assert again["response_type"] == "ephemeral" and "already watches" in texts(again)
    ask("watch graph neural networks")
    assert stack.services.channels.topics("C0GENERAL") == ["Diffusion Models", "graph neural networks"]
    assert stack.services.channels.topics("C0OTHER") == []
    listed = texts(ask("topics", channel_id="C0GENERAL"))
    assert "1. Diffusion Models — " in listed and "\n2. graph neural networks — " in listed
    removed = ask("unwatch 1")
    assert removed["response_type"] == "in_channel" and "removed “Diffusion Models”" in texts(removed)
    missing = ask("unwatch robotics")
    assert missing["response_type"] == "ephemeral" and "doesn't watch “robotics”" in texts(missing)
    assert "Tell me which topic to watch" in texts(ask("watch"))
    assert stack.services.channels.topics("C0GENERAL") == ["graph neural networks"]


def test_topics_try_shows_what_a_topic_would_match_and_changes_nothing(stack: SlackStack) -> None:
    ask = stack.driver.ask
    tried = ask("topics try Diffusion Transformers", user_id="U0BOB")
    assert tried["response_type"] == "ephemeral"
    shown = texts(tried)
    assert "“Diffusion Transformers” would have matched 1 paper of the 2 that arrived in the last 30 days " \
           "from Hugging Face Daily Papers" in shown
    assert "1. *Diffusion Transformers for Long Video Generation* (2405.10001) — score " in shown
    assert "_matches “Diffusion Transformers”: diffusion, transformers_" in shown
    assert "Nothing was changed." in shown and "`/papers watch Diffusion Transformers`" in shown
    assert stack.services.channels.topics("C0GENERAL") == [] and stack.services.channels.get("C0GENERAL") is None
    assert not stack.slack.calls_to("chat.postMessage"), "a trial posts nothing to the channel"
    ask("watch diffusion transformers")
    assert "already watches it" in texts(ask("topics try diffusion transformers"))
    assert "Tell me which topic to try" in texts(ask("topics try"))
    refused = texts(ask("topics try since:yesterday"))
    assert "can't be used as a topic" in refused and "date" in refused
    assert "would have matched 0 papers" in texts(ask("topics try graph neural networks")), "not this channel's sources"
    assert "1. graph" not in texts(ask("topics", channel_id="C0GENERAL")), "a tried topic is not watched"


def test_admins_restrict_topic_changes(slack_stack_factory: Any) -> None:
    stack = slack_stack_factory(corpus(), env={"PAPERBOT_ADMINS": "U0ADMIN"})
    refused = stack.driver.ask("watch diffusion", user_id="U0ALICE")
    assert refused["response_type"] == "ephemeral"
    assert "only paperbot admins (<@U0ADMIN>) can change" in texts(refused)
    assert stack.driver.ask("unwatch diffusion", user_id="U0ALICE")["response_type"] == "ephemeral"
    assert stack.services.channels.topics("C0GENERAL") == []
    assert stack.driver.ask("watch diffusion", user_id="U0ADMIN")["response_type"] == "in_channel"
    assert "diffusion" in texts(stack.driver.ask("topics", user_id="U0ALICE")), "anyone may look"
    assert paper_ids(stack.driver.ask("diffusion", user_id="U0ALICE")), "and search"


def test_a_custom_command_name(slack_stack_factory: Any) -> None:
    stack = slack_stack_factory(corpus(), env={"PAPERBOT_COMMAND": "/paperbot"})
    reply = stack.driver.ask("help")
    assert "`/paperbot topics`" in texts(reply)
    assert stack.driver.command("help", command="/papers").response.status_code == 404


# --- buttons ------------------------------------------------------------------------------------------------


def _share_button(stack: SlackStack, query: str, paper_id: str) -> tuple[str, dict[str, Any]]:
    reply = stack.driver.ask(query)
    return next((bid, b) for bid, b in buttons(reply, "paper_share") if b["value"] == paper_id)


def test_share_posts_the_paper_visibly_with_a_save_button(stack: SlackStack) -> None:
    block_id, share = _share_button(stack, "attention sinks", "2405.10002")
    clicked = stack.driver.click(share, block_id=block_id, user_id="U0BOB")
    assert clicked.response.status_code == 200
    [post] = stack.slack.wait_for_calls("chat.postMessage")
    assert post.params["channel"] == "C0GENERAL"
    assert post.headers["authorization"] == f"Bearer {stack.slack.bot_token}"
    shown = texts(post.params)
    assert "&lt;!channel&gt; Free GPUs" in shown and "Shared by <@U0BOB>" in shown
    assert [b["value"] for _, b in buttons(post.params, "paper_save")] == ["2405.10002"]
    assert not buttons(post.params, "paper_share")
    assert post.params["unfurl_links"] is False
    ts = post.response["ts"]
    wait_until(lambda: stack.services.posts.paper_for("C0GENERAL", ts) == "2405.10002")
    # A double click does not post twice.
    again = stack.driver.click(share, block_id=block_id, user_id="U0BOB")
    assert "a moment ago" in texts(stack.slack.wait_for_responses(again.response_url)[0])
    assert len(stack.slack.calls_to("chat.postMessage")) == 1
    assert stack.slack.broadcast_mentions() == []
    # What was shared is searchable by channel (`here`, or the name Slack sent with the command).
    for query in ("channel:here", "channel:#general", "channel:C0GENERAL"):
        assert paper_ids(stack.driver.ask(query)) == ["2405.10002"], query
    assert paper_ids(stack.driver.ask("channel:here", channel_id="C0OTHER")) == []


def test_share_where_the_bot_is_not_a_member_explains_how_to_fix_it(stack: SlackStack) -> None:
    stack.slack.channel_errors["C0PRIVATE"] = "not_in_channel"
    reply = stack.driver.ask("diffusion transformers video", channel_id="C0PRIVATE")
    share = next(b for _, b in buttons(reply, "paper_share") if b["value"] == "2405.10001")
    clicked = stack.driver.click(share, channel_id="C0PRIVATE")
    answer = stack.slack.wait_for_responses(clicked.response_url)[0]
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "not a member of this channel" in texts(answer) and "/invite @paperbot" in texts(answer)
    del stack.slack.channel_errors["C0PRIVATE"]
    stack.driver.click(share, channel_id="C0PRIVATE")
    [post] = stack.slack.wait_for_calls("chat.postMessage", count=2)[1:]
    assert post.response["ok"] is True, "after /invite, sharing works (the failed try does not count as a repeat)"


def test_share_rides_out_a_429_storm(stack: SlackStack) -> None:
    stack.slack.rate_limit("chat.postMessage", times=2, retry_after=0)
    _, share = _share_button(stack, "diffusion transformers video", "2405.10001")
    stack.driver.click(share)
    calls = stack.slack.wait_for_calls("chat.postMessage", count=3, timeout=10)
    assert [c.status for c in calls] == [429, 429, 200]
    assert calls[-1].response["ok"] is True


def test_the_save_button_on_a_search_result_saves_the_paper(stack: SlackStack) -> None:
    reply = stack.driver.ask("diffusion transformers video")
    block_id, save = buttons(reply, "paper_save")[0]
    clicked = stack.driver.click(save, block_id=block_id)
    assert clicked.response.status_code == 200
    answer = stack.slack.wait_for_responses(clicked.response_url)[0]
    assert "Saved" in texts(answer) and "/papers saved" in texts(answer)
    assert [s.paper_id for s in stack.services.saves.saved("U0ALICE")] == [save["value"]]


# --- errors, events, speed ----------------------------------------------------------------------------------


def test_an_exception_in_a_handler_gives_a_reference_and_the_server_keeps_serving(
    stack: SlackStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("index exploded")

    monkeypatch.setattr(stack.services.index, "search", broken)
    with caplog.at_level(logging.INFO, logger="bot.slack"):
        reply = stack.driver.ask("diffusion")
    match = re.search(r"Sorry, something went wrong on my side \(ref ([0-9a-f]{8})\)", texts(reply))
    assert match, texts(reply)
    assert "Traceback" not in json.dumps(reply) and "index exploded" not in json.dumps(reply)
    [record] = [r for r in caplog.records if r.getMessage().startswith(f"slack.error ref={match.group(1)}")]
    assert record.exc_info and "index exploded" in str(record.exc_info[1])
    assert "/papers topics" in texts(stack.driver.ask("help")), "still serving"


def test_an_exception_before_the_ack_still_answers_with_a_reference(
    slack_stack_factory: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing_ack(ack: Any) -> None:
        raise RuntimeError("ack exploded")

    monkeypatch.setattr("bot.slack.commands.ack_now", failing_ack)
    stack = slack_stack_factory(corpus())
    with caplog.at_level(logging.ERROR, logger="bot.slack"):
        sent = stack.driver.command("topics")
    assert sent.response.status_code == 200, "Slack shows the apology instead of a dispatch_failed error"
    apology = sent.response.json()
    assert apology["response_type"] == "ephemeral"
    ref = re.search(r"\(ref ([0-9a-f]{8})\)", apology["text"])
    assert ref and "ack exploded" not in sent.response.text
    assert any(r.getMessage() == f"slack.error ref={ref.group(1)} event=bolt" and r.exc_info for r in caplog.records)


def test_app_home_event_publishes_the_home_tab_once_even_when_slack_retries(stack: SlackStack) -> None:
    event = {"type": "app_home_opened", "user": "U0ALICE", "channel": "D0ALICE", "tab": "home",
             "event_ts": f"{time.time():.6f}"}
    first = stack.driver.event(event, event_id="Ev0HOME0001")
    assert first.response.status_code == 200
    [publish] = stack.slack.wait_for_calls("views.publish")
    assert publish.params["user_id"] == "U0ALICE"
    view = json.dumps(publish.params["view"])
    assert "/papers watch &lt;topic&gt;" in view and "reading list" in view.lower()
    retry = stack.driver.event(event, event_id="Ev0HOME0001", retry_num=1)
    assert retry.response.status_code == 200
    stack.driver.event({**event, "tab": "messages"})
    stack.settle()
    assert len(stack.slack.calls_to("views.publish")) == 1


def test_acks_stay_fast_while_every_worker_is_busy(stack: SlackStack, monkeypatch: pytest.MonkeyPatch) -> None:
    real_search = stack.services.index.search
    release = threading.Event()

    def stuck_search(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        return real_search(*args, **kwargs)

    monkeypatch.setattr(stack.services.index, "search", stuck_search)
    sent: list[Any] = []
    threads = [threading.Thread(target=lambda: sent.append(stack.driver.command("graph neural"))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [s.response.status_code for s in sent] == [200] * 16
    assert max(s.elapsed for s in sent) < 0.5, "acks do not wait for the workers"
    assert stack.slack.response_posts == [], "every worker is still stuck in a search"
    release.set()
    for s in sent:
        assert paper_ids(stack.slack.wait_for_responses(s.response_url, timeout=10)[0])



@pytest.mark.parametrize("text", ["search payload attacks", "watch payload injection", "diffusion payload=1"])
def test_a_command_whose_text_says_payload_is_answered(stack: SlackStack, text: str) -> None:
    # Bolt reads any form body containing "payload" as an interactive payload; a command saying it must still work.
    sent = stack.driver.command(text)
    assert sent.response.status_code == 200, sent.response.text
    reply = stack.slack.wait_for_responses(sent.response_url)[0]
    assert "payload" in json.dumps(reply)
