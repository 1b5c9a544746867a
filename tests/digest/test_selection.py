"""Which papers a channel's digest offers and in what order (real stores, scripted index): only new ones from
the channel's sources, ranked; the maximum; versions; topics matched once; topic counts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from digest_world import DAY1, NINE_BERLIN_DAY1, Hit, ScriptedIndex, World

from bot.digest.schedule import ScheduleChange
from bot.search.models import QueryError


def test_only_new_matching_papers_from_the_channels_sources_ranked_by_strength_upvotes_recency(world: World) -> None:
    w = world
    w.add("2405.00001", "2024-05-10T06:00:00Z")  # a week old: not new
    w.add("2405.00010", "2024-05-17T06:45:00Z", upvotes=1)  # the strongest match
    w.add("2405.00011", "2024-05-17T06:45:00Z", upvotes=5, published="2024-05-15T00:00:00Z")
    w.add("2405.00012", "2024-05-17T06:45:00Z", upvotes=50, published="2024-05-14T00:00:00Z")
    w.add("2405.00013", "2024-05-17T06:45:00Z", upvotes=5, published="2024-05-16T00:00:00Z")
    w.add("2405.00014", "2024-05-17T06:45:00Z", upvotes=500)  # matches nothing
    w.add("2405.00015", "2024-05-17T06:45:00Z", source="arxiv", categories=("cs.LG",))  # not a Daily Paper
    w.add("2405.00016", "2024-05-17T06:45:00Z")  # shared here by someone yesterday
    w.posts.record("C1", "1715000000.000001", "2405.00016", "share", user="U0BOB")
    w.scores["diffusion"] = {"2405.00001": 10, "2405.00010": 10, "2405.00011": 5.0, "2405.00012": 5.2,
                             "2405.00013": 5.0, "2405.00015": 9, "2405.00016": 9}
    plan, _ = w.service.preview(w.service.channel("C1"))
    # Same tier (within 10 % of each other): upvotes decide, then the newer paper.
    assert [p.paper_id for p in plan.picks] == ["2405.00010", "2405.00012", "2405.00013", "2405.00011"]
    assert plan.candidates == 5, "new Daily Papers not posted here yet, matching or not"

    w.service.channel_settings.set_sources("C1", "U0ALICE", ("cs.LG",), w.clock())
    plan, _ = w.service.preview(w.service.channel("C1"))
    assert [p.paper_id for p in plan.picks] == ["2405.00015"], "an arXiv-only channel gets only its category"


def test_the_maximum_caps_a_digest_and_what_did_not_fit_does_not_come_back_tomorrow(world: World) -> None:
    w = world
    w.service.channel_settings.change_schedule("C1", "U0ALICE", ScheduleChange(max_papers=2),
                                       NINE_BERLIN_DAY1 - timedelta(days=1))
    for i in range(4):
        w.add(f"2405.0002{i}", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {f"2405.0002{i}": 10 - i for i in range(4)}
    assert w.run("C1").status == "done"
    assert w.slack.papers("C1") == ["2405.00020", "2405.00021"]

    w.clock.advance(days=1)
    w.add("2405.00030", "2024-05-18T06:45:00Z")
    w.scores["diffusion"]["2405.00030"] = 1
    assert w.run("C1", date(2024, 5, 18)).status == "done"
    assert w.slack.papers("C1")[2:] == ["2405.00030"], "yesterday's overflow is not today's news"


def test_a_new_version_of_a_posted_paper_is_not_posted_again(world: World) -> None:
    w = world
    w.add("2405.00040", "2024-05-17T06:45:00Z", version=1)
    w.scores["diffusion"] = {"2405.00040": 8}
    w.run("C1")
    assert w.slack.papers("C1") == ["2405.00040"]
    # v2 the next day, listed on Daily Papers again and seen again: the same paper.
    w.clock.advance(days=1)
    w.add("2405.00040", "2024-05-18T06:45:00Z", version=2)
    assert w.archive.get("2405.00040")["version"] == 2
    result = w.run("C1", date(2024, 5, 18))
    assert result.status == "empty" and w.slack.papers("C1") == ["2405.00040"]


def test_topics_match_once_each_across_channels_and_bad_topics_are_skipped(world: World) -> None:
    w = world
    w.watch("C2", "Diffusion", "broken (")
    w.watch("C1", "broken (")
    w.add("2405.00050", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {"2405.00050": 3}

    def refuse(query: str, paper_ids: Any = None) -> list[Hit]:
        if "(" in query:
            raise QueryError("unbalanced parenthesis")
        return ScriptedIndex.match(w.index, query, paper_ids)

    w.index.match = refuse  # type: ignore[method-assign]
    items = [(w.service.channel(c), DAY1) for c in ("C1", "C2")]
    plans = w.service.plan(items, w.clock())
    assert [p.paper_id for p in plans[("C1", DAY1)].picks] == ["2405.00050"]
    assert [p.paper_id for p in plans[("C2", DAY1)].picks] == ["2405.00050"]


def test_topic_counts_cover_the_last_seven_days_of_the_channels_sources(world: World) -> None:
    w = world
    w.watch("C1", "agents")
    w.add("2405.00060", "2024-05-16T06:45:00Z")
    w.add("2405.00061", "2024-05-12T06:45:00Z")
    w.add("2405.00062", "2024-05-01T06:45:00Z")  # too old
    w.add("2405.00063", "2024-05-16T06:45:00Z", source="arxiv", categories=("cs.CL",))  # another source
    w.scores["diffusion"] = {"2405.00060": 1, "2405.00061": 1, "2405.00062": 1, "2405.00063": 1}
    w.watch("C1", "however")

    def refuse_common(query: str, paper_ids: Any = None) -> list[Hit]:
        if query == "however":
            raise QueryError("'however' is too common to search for; add a more specific word.")
        return ScriptedIndex.match(w.index, query, paper_ids)

    w.index.match = refuse_common  # type: ignore[method-assign]
    counts = w.service.topic_counts(w.service.channel("C1"))
    assert [(c.topic, c.count, c.problem) for c in counts] == [
        ("diffusion", 2, None), ("agents", 0, None),
        ("however", 0, "'however' is too common to search for; add a more specific word.")]
