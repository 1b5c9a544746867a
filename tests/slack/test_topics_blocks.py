"""Block Kit for topics (pure, fast): lists, changes, refusals; every one valid and inert."""

from __future__ import annotations

from block_checks import INJECTION, assert_inert, assert_valid

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
