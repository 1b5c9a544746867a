"""Block Kit for topics (pure, fast): lists, changes, refusals; every one valid and inert."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from block_checks import INJECTION, assert_inert, assert_valid, paper

from bot.digest.schedule import WEEKDAYS, Schedule
from bot.digest.selection import Pick
from bot.digest.settings import ChannelDigest
from bot.digest.trial import Trial, TrialMatch
from bot.slack import topics_blocks as tb


def test_every_topic_reply_is_valid_and_inert() -> None:
    cmd = "/papers"
    topics = [INJECTION, "diffusion", "日本語 🚀"]
    messages = [
        tb.topics_list([], cmd), tb.topics_list(topics, cmd), tb.topics_list(topics * 8, cmd, may_configure=False),
        tb.topic_added("U0ALICE", INJECTION, topics), tb.topic_already_watched(INJECTION),
        tb.topic_removed("U0ALICE", INJECTION, []), tb.topic_removed("U0ALICE", INJECTION, topics),
        tb.topic_not_watched(INJECTION, topics, cmd), tb.topic_not_watched(INJECTION, [], cmd),
        *(tb.topic_problem(r, cmd, limit=25) for r in ("empty", "empty_unwatch", "too_long", "too_many", "?")),
    ]
    for message in messages:
        assert_valid(message)
        assert_inert(message)


def _trial(n: int) -> tuple[Trial, ChannelDigest]:
    matches = [TrialMatch(Pick(f"2405.{i:05d}", 2.0 - i / 10, INJECTION), paper(i, title=f"{INJECTION} {i}"),
                          ("diffusion",)) for i in range(1, n + 1)]
    trial = Trial(INJECTION, datetime(2024, 5, 1, tzinfo=UTC), "C1", candidates=40, matches=matches)
    return trial, ChannelDigest("C1", (), Schedule(time(9, 0), "UTC", WEEKDAYS), max_papers=3)


def test_a_topic_trial_shows_the_count_the_best_five_and_the_two_weakest_inertly() -> None:
    trial, channel = _trial(9)
    shown = tb.topic_trial(trial, channel, "/papers", days=30)
    assert_valid(shown)
    assert_inert(shown)
    text = "\n".join(block["text"]["text"] for block in shown["blocks"] if "text" in block)
    text += "\n".join(e["text"] for block in shown["blocks"] for e in block.get("elements", []))
    assert "would have matched 9 papers of the 40 that arrived in the last 30 days from Hugging Face" in text
    numbered = re.findall(r"^(\d+)\. \*.*?\* \((2405\.\d+)\)", text, flags=re.M)
    assert numbered == [("1", "2405.00001"), ("2", "2405.00002"), ("3", "2405.00003"), ("4", "2405.00004"),
                        ("5", "2405.00005"), ("8", "2405.00008"), ("9", "2405.00009")]
    assert "*Borderline* (the weakest matches)" in text and "score 1.10" in text
    assert "_matches “&lt;!channel&gt;" in text and "diffusion in title/abstract_" in text
    assert "Nothing was changed. A digest posts at most 3 a day" in text and "/papers watch" in text


def test_a_trial_with_few_or_no_matches_and_a_refused_topic() -> None:
    few, channel = _trial(3)
    shown = tb.topic_trial(few, channel, "/papers", days=30, watched=True)
    assert "Borderline" not in str(shown) and "already watches it" in str(shown)
    none, _ = _trial(0)
    empty = tb.topic_trial(none, channel, "/papers", days=30)
    assert "Best matches" not in str(empty) and "Try fewer or broader words" in str(empty)
    for message in (shown, empty, tb.topic_refused(INJECTION, "A date looks like 2024-05."),
                    tb.topic_problem("empty_try", "/papers")):
        assert_valid(message)
        assert_inert(message)
