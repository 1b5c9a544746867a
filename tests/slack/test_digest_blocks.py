"""Digest messages: outside text stays inert, Slack's limits hold, and each reply names its paper."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from slack_emulator import BROADCAST_RE, all_strings, validate_message

from bot.digest.schedule import WEEKDAYS, Schedule
from bot.digest.selection import Pick, Plan, TopicCount
from bot.digest.settings import ChannelDigest
from bot.papers import new_record
from bot.slack import digest_blocks, topics_blocks

EVIL = "<!channel> Free GPUs <@U0ATTACKER> & <https://evil.example|click>"
DAY = date(2024, 5, 17)


def paper(i: int, title: str = "A paper") -> dict[str, Any]:
    return new_record(f"2405.{10000 + i}", source="hf", title=title, abstract="x " * 900,
                      authors=["Ada Lovelace", "<@U0EVIL>"], upvotes=i, published="2024-05-16T00:00:00Z")


def channel(**overrides: Any) -> ChannelDigest:
    values: dict[str, Any] = {"channel": "C1", "topics": (EVIL, "diffusion"),
                              "schedule": Schedule(time(9, 0), "Europe/Berlin", WEEKDAYS)}
    values.update(overrides)
    return ChannelDigest(**values)


def assert_slack_accepts(message: dict[str, Any]) -> None:
    assert validate_message(message) == []
    live = [s for s in all_strings(message) if BROADCAST_RE.search(s) or "<@U0ATTACKER>" in s or "<@U0EVIL>" in s]
    assert live == [], "outside text must reach Slack escaped"


def test_the_header_lists_every_paper_escaped_and_is_findable_by_its_day() -> None:
    items = [(paper(i, EVIL + " " + "long title " * 30), Pick(f"2405.{10000 + i}", 1.0, EVIL)) for i in range(25)]
    message = digest_blocks.digest_header(channel(), DAY, items, command="/papers")
    assert_slack_accepts(message)
    assert message["blocks"][0]["block_id"] == "digest:2024-05-17"
    listed = "\n".join(b["text"]["text"] for b in message["blocks"][1:] if b["type"] == "section")
    assert all(f"{n}. <https://arxiv.org/abs/2405.{10000 + n - 1}|" in listed for n in range(1, 26))
    assert "25 papers" in message["blocks"][0]["text"]["text"] and "Friday 17 May" in message["text"]


def test_an_empty_header_says_so() -> None:
    message = digest_blocks.digest_header(channel(), DAY, [], command="/papers")
    assert_slack_accepts(message)
    assert "nothing new matched" in message["text"]


def test_a_paper_reply_carries_its_id_a_save_button_and_why_it_is_there() -> None:
    message = digest_blocks.digest_paper(paper(3, EVIL), Pick("2405.10003", 0.8, EVIL), 2, 7)
    assert_slack_accepts(message)
    assert message["blocks"][0]["block_id"] == "paper:2405.10003"
    assert any(e.get("action_id") == "paper_save" for b in message["blocks"] if b["type"] == "actions"
               for e in b["elements"])
    assert message["blocks"][-1]["elements"][0]["text"].startswith("2/7 · matches “&lt;!channel&gt;")


def test_the_preview_shows_papers_and_says_nothing_was_posted() -> None:
    records = {f"2405.{10000 + i}": paper(i, EVIL) for i in range(20)}
    plan = Plan("C1", DAY, datetime(2024, 5, 16, tzinfo=UTC), datetime(2024, 5, 17, tzinfo=UTC),
                picks=[Pick(pid, 1.0, "diffusion") for pid in records], skipped=["2405.99999"], candidates=80)
    message = digest_blocks.digest_preview(plan, records, channel(), next_digest=False, command="/papers")
    assert_slack_accepts(message)
    text = message["blocks"][0]["text"]["text"]
    assert "Today's digest would post 20 papers" in text and "of 80 new" in text and "1 more matched" in text
    assert "…and 5 more." in str(message["blocks"]) and "nothing was posted" in str(message["blocks"][-1])
    empty = digest_blocks.digest_preview(Plan("C1", DAY, plan.since, plan.planned_at, candidates=12), {},
                                         channel(), next_digest=True, command="/papers")
    assert "The next digest would post nothing so far" in empty["text"]


def test_topics_with_counts() -> None:
    counts = [TopicCount(EVIL, 3), TopicCount("diffusion", 41), TopicCount("however", 0, "'however' is too common")]
    message = topics_blocks.topics_with_counts(channel(sources=("hf", "cs.LG")), counts, "/papers")
    assert_slack_accepts(message)
    body = "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
    assert "1. &lt;!channel&gt;" in body and "— 3 papers" in body and "2. diffusion — 41 papers" in body
    assert "Hugging Face Daily Papers, arXiv cs.LG" in body
    assert "3. however — _matches nothing: 'however' is too common_" in body


def test_schedule_status() -> None:
    status = digest_blocks.schedule_status(channel(paused="not_in_channel"), None, command="/papers",
                                           changed_by="U0ALICE")
    assert_slack_accepts(status)
    assert "09:00 Europe/Berlin, weekdays" in status["text"] and "Paused" in status["text"]
    custom = digest_blocks.schedule_status(channel(paused="restricted_action"), None, command="/lab")
    assert "doesn't allow me to post" in custom["text"] and "`/lab schedule …`" in custom["text"]
    on = digest_blocks.schedule_status(channel(), datetime(2024, 5, 20, 7, 0, tzinfo=UTC), command="/papers")
    assert "Next digest: Monday 20 May, 09:00 Europe/Berlin" in on["text"]


def test_a_waiting_digest_says_when_i_look_again_or_that_nothing_goes_out_by_itself() -> None:
    from bot.digest.readiness import Readiness

    down = (("hf", "HTTP 503"),)
    nine = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)
    # Something is scheduled later today: the bot looks again then (it may still post nothing).
    for readiness in (Readiness(False, down, nine), Readiness(False, (), nine)):
        text = digest_blocks.waiting_text(readiness, channel(), command="/papers")
        assert "I'll look again at 09:00 Europe/Berlin" in text, text
        assert "will be posted" not in text
    # Nothing scheduled (schedule off, paused, a weekend under "weekdays"): nothing goes out by itself.
    text = digest_blocks.waiting_text(Readiness(False, down, None), channel(), command="/papers")
    assert "sources are down" in text and "Hugging Face: HTTP 503" in text
    assert "goes out" not in text and "run `/papers digest` again once they are back" in text, text
    text = digest_blocks.waiting_text(Readiness(False, (), None), channel(), command="/papers")
    assert "not in yet" in text and "run `/papers digest` again later" in text, text
    result = type("Result", (), {"status": "waiting", "readiness": Readiness(False, down, None)})()
    reply = digest_blocks.digest_result(result, "/papers", channel())
    assert reply is not None and "run `/papers digest` again once they are back" in str(reply)
    assert_slack_accepts(reply)
