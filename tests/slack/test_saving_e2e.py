"""Saving papers end to end: signed Slack events and clicks -> waitress -> Bolt -> paperbot -> the Slack
emulator (and local Hugging Face / arXiv servers for papers the archive does not know yet).

Each test asserts what a person would notice: what is in their reading list (and on disk before Slack got
its 200), the ephemeral confirmations they see, the file they receive, the App Home they open.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fake_sources import FakeSources, arxiv_entry, hf_item
from local_http import Reply
from slack_driver import SlackStack, wait_until

from bot.papers import new_record

pytestmark = pytest.mark.e2e

INJECTED = "<!channel> Free GPUs <@U0ATTACKER> & <https://evil.example|click>"


def corpus() -> list[dict[str, Any]]:
    return [
        new_record("2405.10001", source="hf", title="Diffusion Transformers for Long Video Generation",
                   abstract="We scale diffusion transformers to minute-long video.", authors=["Ada Lovelace"],
                   published="2024-05-16T17:59:59Z", upvotes=87, categories=["cs.CV"], primary_category="cs.CV"),
        new_record("2405.10002", source="arxiv", title=INJECTED, abstract="<!here> attention sinks.",
                   authors=["Mallory"], published="2024-05-15T00:00:00Z"),
        new_record("2405.10003", source="arxiv", title="Sparse autoencoders find interpretable features",
                   abstract="Dictionary learning on language model activations.", authors=["Chris Olah"],
                   published="2024-05-14T00:00:00Z"),
    ]


def texts(message: dict[str, Any]) -> str:
    parts = [message.get("text", "")]
    for block in message.get("blocks", []) or []:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []) or []:
            parts.append(element.get("text") if isinstance(element.get("text"), str) else
                         element.get("text", {}).get("text", ""))
    return "\n".join(parts)



def saved_ids(stack: SlackStack, user: str) -> list[str]:
    return [s.paper_id for s in stack.services.saves.saved(user)]


def ephemerals_to(stack: SlackStack, user: str, count: int = 1) -> list[dict[str, Any]]:
    return wait_until(lambda: (found := [e for e in stack.slack.ephemerals if e["user"] == user])
                      and len(found) >= count and found)


def bot_post(stack: SlackStack, channel: str, paper_id: str) -> str:
    """A message the bot posted about `paper_id` (as the digest does), recorded in the post ledger."""
    ts = f"{time.time():.6f}"
    stack.slack.messages.setdefault(channel, []).append(
        {"type": "message", "user": stack.slack.bot_user_id, "bot_id": stack.slack.bot_id, "ts": ts,
         "text": f"https://arxiv.org/abs/{paper_id}"})
    stack.services.posts.record(channel, ts, paper_id, "digest")
    return ts


def react(stack: SlackStack, user: str, channel: str, ts: str, *, reaction: str = "bookmark",
          removed: bool = False, **kwargs: Any) -> Any:
    event = {"type": "reaction_removed" if removed else "reaction_added", "user": user, "reaction": reaction,
             "item_user": "U0SOMEONE", "item": {"type": "message", "channel": channel, "ts": ts},
             "event_ts": f"{time.time():.6f}"}
    sent = stack.driver.event(event, **kwargs)
    assert sent.response.status_code == 200
    return sent


@pytest.fixture
def stack(slack_stack_factory: Any) -> SlackStack:
    return slack_stack_factory(corpus())


@pytest.fixture
def sourced_stack(slack_stack_factory: Any, fake_sources: FakeSources) -> SlackStack:
    env = {"HF_API_URL": fake_sources.hf_api_url, "ARXIV_API_URL": fake_sources.arxiv_api_url,
           "PAPERBOT_ARXIV_DELAY": "0", "PAPERBOT_HTTP_RETRIES": "0", "PAPERBOT_HTTP_TIMEOUT": "2"}
    return slack_stack_factory(corpus(), env=env)


# --- reactions on the bot's posts ----------------------------------------------------------------------------


def test_a_bookmark_on_a_bot_post_saves_before_the_ack_and_removing_it_unsaves(stack: SlackStack) -> None:
    ts = bot_post(stack, "C0GENERAL", "2405.10001")
    react(stack, "U0BOB", "C0GENERAL", ts)
    # Durable before the 200: the save is in the list the moment the request returns, not "soon".
    assert saved_ids(stack, "U0BOB") == ["2405.10001"]
    save = stack.services.saves.get("U0BOB", "2405.10001")
    assert (save.channel, save.ts, save.via) == ("C0GENERAL", ts, "reaction")
    [note] = ephemerals_to(stack, "U0BOB")
    assert note["channel"] == "C0GENERAL"
    assert "Saved" in texts(note) and "Diffusion Transformers" in texts(note) and "/papers saved" in texts(note)
    assert not stack.slack.calls_to("chat.postMessage"), "a confirmation is never a channel message"

    react(stack, "U0BOB", "C0GENERAL", ts, reaction="thumbsup")
    react(stack, "U0CAROL", "C0GENERAL", ts, reaction="bookmark", removed=True)  # never saved it
    assert saved_ids(stack, "U0BOB") == ["2405.10001"] and saved_ids(stack, "U0CAROL") == []

    react(stack, "U0BOB", "C0GENERAL", ts, removed=True)
    assert saved_ids(stack, "U0BOB") == []
    notes = ephemerals_to(stack, "U0BOB", 2)
    assert "Removed" in texts(notes[1])


def test_slack_retries_and_double_reactions_save_once(stack: SlackStack) -> None:
    ts = bot_post(stack, "C0GENERAL", "2405.10003")
    first = react(stack, "U0BOB", "C0GENERAL", ts, event_id="Ev0SAVE0001")
    react(stack, "U0BOB", "C0GENERAL", ts, event_id="Ev0SAVE0001", retry_num=1)  # Slack's retry
    react(stack, "U0BOB", "C0GENERAL", ts)  # the same reaction delivered again under a new id
    assert first.response.status_code == 200
    assert saved_ids(stack, "U0BOB") == ["2405.10003"]
    assert stack.services.saves.savers("2405.10003") == {"U0BOB"}
    stack.settle()
    assert len([e for e in stack.slack.ephemerals if e["user"] == "U0BOB"]) == 1, "told once"


def test_every_configured_save_emoji_and_skin_tones_count(slack_stack_factory: Any) -> None:
    stack = slack_stack_factory(corpus(), env={"PAPERBOT_SAVE_EMOJI": "bookmark, :star:"})
    ts = bot_post(stack, "C0GENERAL", "2405.10001")
    react(stack, "U0BOB", "C0GENERAL", ts, reaction="star")
    react(stack, "U0CAROL", "C0GENERAL", ts, reaction="bookmark::skin-tone-3")
    react(stack, "U0DAVE", "C0GENERAL", ts, reaction="heart")
    assert stack.services.saves.savers("2405.10001") == {"U0BOB", "U0CAROL"}


def test_confirmations_never_ping_anyone(stack: SlackStack) -> None:
    ts = bot_post(stack, "C0GENERAL", "2405.10002")
    react(stack, "U0BOB", "C0GENERAL", ts)
    [note] = ephemerals_to(stack, "U0BOB")
    assert "&lt;!channel&gt;" in texts(note)
    assert stack.driver.ask("saved", user_id="U0BOB")
    assert stack.slack.broadcast_mentions() == []


# --- reactions on messages people wrote ----------------------------------------------------------------------


def test_a_bookmark_on_a_persons_message_fetches_archives_and_saves_its_papers(
        sourced_stack: SlackStack, fake_sources: FakeSources) -> None:
    stack = sourced_stack
    fake_sources.add_hf_day("2024-06-03", [hf_item("2406.00001", "Mixture of depths for fast decoding",
                                                   day="2024-06-03", authors=["Zoe Li"], upvotes=12)])
    fake_sources.add_arxiv(arxiv_entry("2406.00002", "Tokenizer-free language models", published="2024-06-02T00:00:00Z",
                                       version=2, authors=["Sam Byte"], categories=["cs.CL"]))
    text = ("worth reading: <https://huggingface.co/papers/2406.00001> and "
            "<https://arxiv.org/abs/2406.00002v2|arXiv:2406.00002v2>, also old news https://arxiv.org/pdf/2405.10003")
    ts = stack.slack.add_message("C0GENERAL", text, user="U0CAROL")
    react(stack, "U0BOB", "C0GENERAL", ts)
    [note] = ephemerals_to(stack, "U0BOB")
    assert "Saved 3 papers" in texts(note) and "Mixture of depths" in texts(note)
    assert sorted(saved_ids(stack, "U0BOB")) == ["2405.10003", "2406.00001", "2406.00002"]
    assert stack.services.archive.get("2406.00002")["title"] == "Tokenizer-free language models"
    assert "2406.00001" in {h.paper["id"] for h in stack.services.index.search("mixture of depths").hits}
    assert stack.slack.calls_to("conversations.history")


def test_a_bookmark_on_a_thread_reply_reads_it_with_conversations_replies(
        sourced_stack: SlackStack, fake_sources: FakeSources) -> None:
    stack = sourced_stack
    fake_sources.add_arxiv(arxiv_entry("2406.00003", "Retrieval heads in long context",
                                       published="2024-06-01T00:00:00Z"))
    parent = stack.slack.add_message("C0GENERAL", "papers thread", user="U0CAROL")
    reply = stack.slack.add_message("C0GENERAL", "this one: arxiv.org/abs/2406.00003", user="U0CAROL",
                                    thread_ts=parent)
    react(stack, "U0BOB", "C0GENERAL", reply)
    [note] = ephemerals_to(stack, "U0BOB")
    assert note.get("thread_ts") == parent, "the confirmation shows in the thread the user is reading"
    assert saved_ids(stack, "U0BOB") == ["2406.00003"]
    assert stack.slack.calls_to("conversations.replies")


def test_an_ordinary_message_or_an_unknown_paper_saves_nothing_and_says_why(
        sourced_stack: SlackStack, fake_sources: FakeSources) -> None:
    stack = sourced_stack
    plain = stack.slack.add_message("C0GENERAL", "lunch at noon?", user="U0CAROL")
    react(stack, "U0BOB", "C0GENERAL", plain)
    ghost = stack.slack.add_message("C0GENERAL", "https://arxiv.org/abs/2406.99999", user="U0CAROL")
    react(stack, "U0BOB", "C0GENERAL", ghost)
    [note] = ephemerals_to(stack, "U0BOB")
    assert "couldn't find" in texts(note) and "2406.99999" in texts(note)
    assert saved_ids(stack, "U0BOB") == []
    assert stack.services.saves.pending() == [], "nothing left half-done"


def test_a_message_the_bot_cannot_read_is_explained(sourced_stack: SlackStack) -> None:
    stack = sourced_stack
    stack.slack.channel_errors["C0SECRET"] = "not_in_channel"
    react(stack, "U0BOB", "C0SECRET", "1700000000.000100")
    wait_until(lambda: stack.slack.calls_to("conversations.history"))
    wait_until(lambda: stack.services.saves.pending() == [])  # given up at once: a retry would not help
    assert saved_ids(stack, "U0BOB") == []
    [tried] = wait_until(lambda: stack.slack.calls_to("chat.postEphemeral"))
    assert tried.response["ok"] is False, "an ephemeral cannot reach a channel the bot is not in"
    [told] = wait_until(lambda: stack.slack.calls_to("chat.postMessage"))
    assert told.params["channel"] == "U0BOB" and "not a member" in texts(told.params), "so it goes to the DM"


def test_links_shared_in_channels_are_archived_without_any_reaction(
        sourced_stack: SlackStack, fake_sources: FakeSources, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = sourced_stack
    monkeypatch.setattr("bot.slack.links.LINK_BATCH_SECONDS", 0.05)  # the batching wait, not what is tested
    fake_sources.add_arxiv(arxiv_entry("2406.00004", "Grokking in modular arithmetic",
                                       published="2024-06-01T00:00:00Z"))
    event = {"type": "message", "channel": "C0GENERAL", "user": "U0CAROL", "ts": f"{time.time():.6f}",
             "text": "has anyone read <https://arxiv.org/abs/2406.00004>?", "channel_type": "channel"}
    assert stack.driver.event(event).response.status_code == 200
    bot_event = {**event, "user": None, "bot_id": "B0OTHER", "subtype": "bot_message",
                 "text": "https://arxiv.org/abs/2406.00005"}
    assert stack.driver.event(bot_event).response.status_code == 200
    wait_until(lambda: "2406.00004" in stack.services.archive)
    assert "slack" in stack.services.archive.get("2406.00004")["sources"]
    assert "2406.00004" in {h.paper["id"] for h in stack.services.index.search("grokking").hits}
    assert "2406.00005" not in stack.services.archive, "other bots' messages are not read"


# --- buttons, lists, top, export, home -------------------------------------------------------------------------


def test_reading_list_newest_first_with_unsave_buttons_and_the_unsave_command(stack: SlackStack) -> None:
    for paper_id in ("2405.10001", "2405.10002", "2405.10003"):
        react(stack, "U0BOB", "C0GENERAL", bot_post(stack, "C0GENERAL", paper_id))
        time.sleep(0.002)
    listed = stack.driver.ask("saved", user_id="U0BOB")
    assert listed["response_type"] == "ephemeral"
    body = texts(listed)
    assert body.index("Sparse autoencoders") < body.index("Diffusion Transformers"), "newest first"
    unsave = [block["accessory"] for block in listed["blocks"]
              if block.get("accessory", {}).get("action_id") == "paper_unsave"]
    assert len(unsave) == 3
    clicked = stack.driver.click(unsave[0], user_id="U0BOB")
    assert clicked.response.status_code == 200
    assert saved_ids(stack, "U0BOB") == ["2405.10002", "2405.10001"]
    [updated] = stack.slack.wait_for_responses(clicked.response_url)
    assert updated["replace_original"] is True and "Removed" in texts(updated)

    removed = stack.driver.ask("unsave https://arxiv.org/abs/2405.10001v3", user_id="U0BOB")
    assert "Removed" in texts(removed) and saved_ids(stack, "U0BOB") == ["2405.10002"]
    assert "isn't in your reading list" in texts(stack.driver.ask("unsave 2405.10001", user_id="U0BOB"))
    assert "/papers unsave 2405.12345" in texts(stack.driver.ask("unsave", user_id="U0BOB"))
    assert "2405.10002" in texts(stack.driver.ask("saved:me", user_id="U0BOB")), "search knows your list"


def test_the_save_button_on_a_digest_post_saves_it(stack: SlackStack) -> None:
    button = {"action_id": "paper_save", "text": {"type": "plain_text", "text": "Save"}, "value": "2405.10003"}
    first = stack.driver.click(button, user_id="U0BOB", ephemeral=False)
    second = stack.driver.click(button, user_id="U0BOB", ephemeral=False)  # a double click
    assert first.response.status_code == second.response.status_code == 200
    assert saved_ids(stack, "U0BOB") == ["2405.10003"]
    assert "already in your reading list" in texts(stack.slack.wait_for_responses(second.response_url)[0])


def test_top_lists_the_most_saved_papers_with_who_saved_them(stack: SlackStack) -> None:
    popular, other = bot_post(stack, "C0GENERAL", "2405.10003"), bot_post(stack, "C0GENERAL", "2405.10001")
    for user in ("U0BOB", "U0CAROL", "U0DAVE"):
        react(stack, user, "C0GENERAL", popular)
    react(stack, "U0BOB", "C0GENERAL", other)
    top = stack.driver.ask("top week")
    body = texts(top)
    assert body.index("Sparse autoencoders") < body.index("Diffusion Transformers")
    assert "<@U0CAROL>" in body and "3" in body
    assert "week" in texts(stack.driver.ask("top fortnight")).lower()
    assert "/papers search top k sampling" in texts(stack.driver.ask("top k sampling"))


def test_a_save_that_cannot_be_written_is_not_acknowledged_and_slacks_retry_saves_it(
        stack: SlackStack, monkeypatch: pytest.MonkeyPatch) -> None:
    ts = bot_post(stack, "C0GENERAL", "2405.10001")
    saves = stack.services.saves
    real_commit = saves._commit

    def disk_full_once(*args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(saves, "_commit", real_commit)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(saves, "_commit", disk_full_once)
    event = {"type": "reaction_added", "user": "U0BOB", "reaction": "bookmark", "item_user": "U0PAPERBOT",
             "item": {"type": "message", "channel": "C0GENERAL", "ts": ts}, "event_ts": f"{time.time():.6f}"}
    failed = stack.driver.event(event, event_id="Ev0DISKFULL1")
    assert failed.response.status_code == 500, "Slack must retry: nothing was saved"
    assert saved_ids(stack, "U0BOB") == [] and not stack.slack.ephemerals
    retried = stack.driver.event(event, event_id="Ev0DISKFULL1", retry_num=1)
    assert retried.response.status_code == 200
    assert saved_ids(stack, "U0BOB") == ["2405.10001"]


def test_a_retry_that_arrives_while_the_first_delivery_is_still_writing_is_not_acknowledged_early(
        stack: SlackStack, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from slack_driver import SIGNING_SECRET, SlackDriver

    ts = bot_post(stack, "C0GENERAL", "2405.10001")
    saves = stack.services.saves
    real_commit = saves._commit
    calls = []

    def slow_disk_then_full(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:  # the first delivery: a write slower than Slack's patience, then ENOSPC
            time.sleep(1.0)
            raise OSError(28, "No space left on device")
        real_commit(*args, **kwargs)

    monkeypatch.setattr(saves, "_commit", slow_disk_then_full)
    event = {"type": "reaction_added", "user": "U0BOB", "reaction": "bookmark", "item_user": "U0PAPERBOT",
             "item": {"type": "message", "channel": "C0GENERAL", "ts": ts}, "event_ts": ts}
    first: dict[str, Any] = {}
    sender = threading.Thread(target=lambda: first.update(sent=stack.driver.event(event, event_id="Ev0RACE0001")))
    sender.start()
    assert wait_until(lambda: calls), "the first delivery is writing"
    other = SlackDriver(stack.server.url, SIGNING_SECRET, stack.slack)
    try:
        retry = other.event(event, event_id="Ev0RACE0001", retry_num=1)
        saved_when_acknowledged = saves.get("U0BOB", "2405.10001")
    finally:
        other.close()
    sender.join()
    assert first["sent"].response.status_code == 500
    assert retry.response.status_code == 200 and saved_when_acknowledged is not None, \
        "a 200 for the retry must mean the save is on disk"


def test_export_sends_a_bib_file_to_the_users_dm(stack: SlackStack) -> None:
    for paper_id in ("2405.10001", "2405.10003"):
        react(stack, "U0BOB", "C0GENERAL", bot_post(stack, "C0GENERAL", paper_id))
    reply = stack.driver.ask("export bibtex", user_id="U0BOB")
    assert ".bib" in texts(reply) and "direct message" in texts(reply)
    [entry] = stack.slack.files.values()
    assert entry["shared"] == ["D0BOB"] and entry["name"].endswith(".bib")
    bib = entry["content"].decode()
    assert bib.count("@misc{") == 2
    assert "eprint={2405.10001}" in bib and "archivePrefix={arXiv}" in bib and "primaryClass={cs.CV}" in bib
    assert "url={https://arxiv.org/abs/2405.10003}" in bib


def test_export_falls_back_to_code_blocks_when_the_upload_fails(stack: SlackStack) -> None:
    react(stack, "U0BOB", "C0GENERAL", bot_post(stack, "C0GENERAL", "2405.10002"))
    stack.slack.channel_errors["D0BOB"] = "channel_not_found"
    stack.slack.fail("files.getUploadURLExternal", times=20, status=500)
    sent = stack.driver.command("export", user_id="U0BOB")
    replies = stack.slack.wait_for_responses(sent.response_url)
    shown = "\n".join(texts(r) for r in replies)
    assert "```" in shown and "2405.10002" in shown and "@misc{" in shown
    assert stack.slack.broadcast_mentions() == []


def test_export_of_an_empty_list_and_a_bad_scope_explain(stack: SlackStack) -> None:
    assert "empty" in texts(stack.driver.ask("export", user_id="U0NOBODY"))
    assert "/papers export" in texts(stack.driver.ask("export everything please", user_id="U0BOB"))
    assert not stack.slack.files


def test_app_home_shows_my_saves_and_the_topics_of_my_channels(stack: SlackStack) -> None:
    react(stack, "U0BOB", "C0GENERAL", bot_post(stack, "C0GENERAL", "2405.10003"))
    stack.services.channels.watch("C0GENERAL", "interpretability", "U0ADMIN")
    stack.services.channels.watch("C0PRIVATE", "secret robotics", "U0ADMIN")
    stack.slack.members.update({"C0GENERAL": ["U0BOB", "U0CAROL"], "C0PRIVATE": ["U0CAROL"]})
    event = {"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB", "tab": "home",
             "event_ts": f"{time.time():.6f}"}
    assert stack.driver.event(event).response.status_code == 200
    wait_until(lambda: "U0BOB" in stack.slack.views)
    view = json.dumps(stack.slack.views["U0BOB"])
    assert "Sparse autoencoders" in view and "interpretability" in view
    assert "secret robotics" not in view, "only channels Bob is in"


def test_export_of_a_topic_and_of_the_channels_posts(stack: SlackStack) -> None:
    bot_post(stack, "C0GENERAL", "2405.10003")
    bot_post(stack, "C0OTHER", "2405.10001")
    reply = stack.driver.ask("export channel", user_id="U0BOB")
    assert "1 paper" in texts(reply)
    reply = stack.driver.ask("export bibtex topic sparse autoencoders", user_id="U0BOB")
    assert "1 paper" in texts(reply)
    channel_bib, topic_bib = (f["content"].decode() for f in stack.slack.files.values())
    assert "eprint={2405.10003}" in channel_bib and "2405.10001" not in channel_bib
    assert "eprint={2405.10003}" in topic_bib and "Sparse autoencoders" in topic_bib
    assert [f["name"] for f in stack.slack.files.values()] == ["paperbot-channel-papers.bib",
                                                               "paperbot-topic-sparse-autoencoders.bib"]


def test_the_empty_list_names_the_configured_save_emoji(slack_stack_factory: Any) -> None:
    stack = slack_stack_factory(corpus(), env={"PAPERBOT_SAVE_EMOJI": "star,bookmark"})
    empty = texts(stack.driver.ask("saved", user_id="U0NEW"))
    assert ":star:" in empty and ":bookmark:" not in empty


def test_a_slack_error_that_passes_is_retried_not_dropped(
        sourced_stack: SlackStack, fake_sources: FakeSources, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = sourced_stack
    monkeypatch.setattr("bot.slack.reactions.PENDING_RETRY_SECONDS", (0.2, 0.2, 0.2))
    ts = stack.slack.add_message("C0GENERAL", "https://arxiv.org/abs/2405.10003", user="U0CAROL")
    stack.slack.rate_limit("conversations.history", times=6, retry_after=0)  # more than the client retries
    react(stack, "U0BOB", "C0GENERAL", ts)
    wait_until(lambda: saved_ids(stack, "U0BOB") == ["2405.10003"])
    assert stack.services.saves.pending() == []
    [note] = ephemerals_to(stack, "U0BOB")
    assert "Saved" in texts(note)


def test_export_of_a_topic_understands_channel_filters_like_search(stack: SlackStack) -> None:
    bot_post(stack, "C0GENERAL", "2405.10003")
    reply = stack.driver.ask("export topic channel:C0GENERAL", user_id="U0BOB")
    assert "1 paper" in texts(reply)
    [entry] = stack.slack.files.values()
    assert "eprint={2405.10003}" in entry["content"].decode()


# --- hardening: one message cannot fan out into thousands of source requests ---------------------------------


def many_links(count: int) -> str:
    return " ".join(f"arxiv.org/abs/2407.{n:05d}" for n in range(1, count + 1))


def test_a_bookmark_on_a_message_with_thousands_of_links_asks_the_sources_a_bounded_number_of_times(
        sourced_stack: SlackStack, fake_sources: FakeSources) -> None:
    stack = sourced_stack
    fake_sources.add_arxiv(*(arxiv_entry(f"2407.{n:05d}", f"Flood paper {n}", published="2024-07-01T00:00:00Z")
                             for n in range(1, 31)))
    ts = stack.slack.add_message("C0GENERAL", many_links(3000), user="U0CAROL")
    react(stack, "U0BOB", "C0GENERAL", ts)
    [note] = ephemerals_to(stack, "U0BOB")
    stack.settle()
    assert len(fake_sources.seen()) <= 21, "at most one Hugging Face request per kept paper, one arXiv batch"
    assert len(saved_ids(stack, "U0BOB")) == 20
    assert "Saved 20 papers" in texts(note) and "2,980" in texts(note), "the user hears some were left out"


def test_a_shared_message_with_thousands_of_links_asks_the_sources_a_bounded_number_of_times(
        sourced_stack: SlackStack, fake_sources: FakeSources, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = sourced_stack
    monkeypatch.setattr("bot.slack.links.LINK_BATCH_SECONDS", 0.05)  # the batching wait, not what is tested
    fake_sources.add_arxiv(*(arxiv_entry(f"2407.{n:05d}", f"Flood paper {n}", published="2024-07-01T00:00:00Z")
                             for n in range(1, 31)))
    event = {"type": "message", "channel": "C0GENERAL", "user": "U0CAROL", "ts": f"{time.time():.6f}",
             "text": many_links(3000), "channel_type": "channel"}
    assert stack.driver.event(event).response.status_code == 200
    wait_until(lambda: "2407.00020" in stack.services.archive)
    [note] = ephemerals_to(stack, "U0CAROL")
    stack.settle()
    assert len(fake_sources.seen()) <= 21, "at most one Hugging Face request per kept paper, one arXiv batch"
    assert "2407.00021" not in stack.services.archive
    assert "2,980" in texts(note) and note["channel"] == "C0GENERAL"


# --- hardening: a Save button only saves papers that exist ---------------------------------------------------


def test_a_save_button_for_a_paper_no_source_knows_saves_nothing_and_says_so(
        sourced_stack: SlackStack, fake_sources: FakeSources) -> None:
    stack = sourced_stack
    button = {"action_id": "paper_save", "text": {"type": "plain_text", "text": "Save"}, "value": "2406.99999"}
    clicked = stack.driver.click(button, user_id="U0BOB", ephemeral=False)
    assert clicked.response.status_code == 200
    [reply] = stack.slack.wait_for_responses(clicked.response_url)
    stack.settle()
    assert saved_ids(stack, "U0BOB") == []
    assert "couldn't find" in texts(reply) and "2406.99999" in texts(reply)


def test_a_save_button_for_a_paper_the_archive_lacks_looks_it_up_and_saves_it(
        sourced_stack: SlackStack, fake_sources: FakeSources) -> None:
    stack = sourced_stack
    fake_sources.add_arxiv(arxiv_entry("2406.00077", "Found on arXiv", published="2024-06-01T00:00:00Z"))
    button = {"action_id": "paper_save", "text": {"type": "plain_text", "text": "Save"}, "value": "2406.00077"}
    clicked = stack.driver.click(button, user_id="U0BOB", ephemeral=False)
    [reply] = stack.slack.wait_for_responses(clicked.response_url)
    assert saved_ids(stack, "U0BOB") == ["2406.00077"]
    assert "Saved" in texts(reply) and "Found on arXiv" in texts(reply)
    assert stack.services.archive.get("2406.00077") is not None


def test_a_save_button_when_the_sources_are_down_saves_nothing_and_asks_to_try_again(
        sourced_stack: SlackStack, fake_sources: FakeSources) -> None:
    stack = sourced_stack
    fake_sources.fail("/", Reply(503), times=None)
    button = {"action_id": "paper_save", "text": {"type": "plain_text", "text": "Save"}, "value": "2406.00078"}
    clicked = stack.driver.click(button, user_id="U0BOB", ephemeral=False)
    [reply] = stack.slack.wait_for_responses(clicked.response_url)
    assert saved_ids(stack, "U0BOB") == []
    assert "couldn't check" in texts(reply) and "try again" in texts(reply)


# --- hardening: a redelivered reaction_added does not undo a later removal -----------------------------------


def test_a_reaction_added_delivered_again_after_its_removal_does_not_save_again(
        sourced_stack: SlackStack, fake_sources: FakeSources) -> None:
    stack = sourced_stack
    fake_sources.add_arxiv(arxiv_entry("2406.00088", "Redelivered", published="2024-06-01T00:00:00Z"))
    bot_ts = bot_post(stack, "C0GENERAL", "2405.10001")
    person_ts = stack.slack.add_message("C0GENERAL", "arxiv.org/abs/2406.00088", user="U0CAROL")
    for ts, n in ((bot_ts, 1), (person_ts, 2)):
        item = {"type": "message", "channel": "C0GENERAL", "ts": ts}
        added = {"type": "reaction_added", "user": "U0BOB", "reaction": "bookmark", "item_user": "U0SOMEONE",
                 "item": item, "event_ts": f"1716200000.00010{n}"}
        removed = {**added, "type": "reaction_removed", "event_ts": f"1716200000.00020{n}"}
        assert stack.driver.event(added, event_id=f"Ev0ADD{n}").response.status_code == 200
        stack.settle()
        assert stack.driver.event(removed, event_id=f"Ev0REMOVE{n}").response.status_code == 200
        assert stack.driver.event(added, event_id=f"Ev0ADD{n}").response.status_code == 200  # redelivered
        stack.settle()
    assert saved_ids(stack, "U0BOB") == [], "the removal came after the add: it wins"
    assert stack.services.saves.pending() == []


def test_a_reaction_removed_delivered_again_after_the_reaction_was_added_again_keeps_the_save(
        stack: SlackStack) -> None:
    ts = bot_post(stack, "C0GENERAL", "2405.10001")
    item = {"type": "message", "channel": "C0GENERAL", "ts": ts}
    added = {"type": "reaction_added", "user": "U0BOB", "reaction": "bookmark", "item_user": "U0SOMEONE",
             "item": item, "event_ts": "1716200000.000100"}
    removed = {**added, "type": "reaction_removed", "event_ts": "1716200000.000200"}
    readded = {**added, "event_ts": "1716200000.000300"}
    assert stack.driver.event(added, event_id="Ev0ADD1").response.status_code == 200
    assert stack.driver.event(removed, event_id="Ev0REMOVE1").response.status_code == 200
    assert saved_ids(stack, "U0BOB") == []
    assert stack.driver.event(readded, event_id="Ev0ADD2").response.status_code == 200
    assert saved_ids(stack, "U0BOB") == ["2405.10001"]
    stack.settle()
    told = len([e for e in stack.slack.ephemerals if e["user"] == "U0BOB"])
    retry = stack.driver.event(removed, event_id="Ev0REMOVE1", retry_num=1)  # Slack's retry of the removal
    assert retry.response.status_code == 200
    stack.settle()
    assert saved_ids(stack, "U0BOB") == ["2405.10001"], "the bookmark added last is still on"
    notices = [e for e in stack.slack.ephemerals if e["user"] == "U0BOB"]
    assert len(notices) == told, "nobody is told the paper was unsaved"
    assert not any("Removed" in texts(e) for e in notices[told:])
