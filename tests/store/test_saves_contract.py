"""SaveRepository contract: one save per (user, paper), idempotent, the reasons a save stays, top papers."""

from __future__ import annotations

import pytest
from contract_backends import Backend, Repositories
from threads import together


def test_a_save_records_who_what_where_when(backend: Backend, repos: Repositories) -> None:
    outcome = repos.saves.save("U1", "https://arxiv.org/abs/2405.12345v2", via="reaction", channel="C1",
                               ts="1716200000.000100", reaction="bookmark", at="2026-11-24T10:00:00Z")
    assert outcome.new and outcome.changed
    save = backend.reopen().saves.get("U1", "2405.12345v1")
    assert save is not None
    assert (save.user, save.paper_id, save.channel, save.ts, save.saved_at, save.via) == (
        "U1", "2405.12345", "C1", "1716200000.000100", "2026-11-24T10:00:00.000000Z", "reaction")
    assert save.reactions == ("C1:1716200000.000100:bookmark",) and not save.kept


def test_saving_twice_is_one_save_that_keeps_the_first_place_and_time(repos: Repositories) -> None:
    repos.saves.save("U1", "2405.12345", via="button", channel="C1", ts="1.1", at="2026-11-24T10:00:00Z")
    again = repos.saves.save("U1", "2405.12345", via="button", channel="C2", ts="2.2", at="2026-11-25T10:00:00Z")
    assert not again.new and not again.changed, "an exact repeat (a Slack retry, a double click) changes nothing"
    assert (again.save.channel, again.save.saved_at[:10]) == ("C1", "2026-11-24")
    assert len(repos.saves.saved("U1")) == 1
    by_reaction = repos.saves.save("U1", "2405.12345", via="reaction", channel="C3", ts="3.3", reaction="bookmark")
    assert not by_reaction.new and by_reaction.changed, "a new reason is recorded"
    assert by_reaction.save.kept and by_reaction.save.reactions == ("C3:3.3:bookmark",)


def test_save_many_saves_each_distinct_paper_once(repos: Repositories) -> None:
    outcomes = repos.saves.save_many("U1", ["2405.00001", "2405.00002v2", "2405.00002"], via="reaction",
                                     channel="C1", ts="1.1", reaction="bookmark")
    assert [(o.save.paper_id, o.new) for o in outcomes] == [("2405.00001", True), ("2405.00002", True)]
    assert repos.saves.saved_ids("U1") == {"2405.00001", "2405.00002"}


def test_reading_list_is_newest_first_and_per_user(repos: Repositories) -> None:
    saves = repos.saves
    saves.save("U1", "2405.00001", via="button", at="2026-11-01T00:00:00Z")
    saves.save("U1", "2405.00003", via="command", at="2026-11-03T00:00:00Z")
    saves.save("U1", "2405.00002", via="button", channel="C7", at="2026-11-02T00:00:00Z")
    saves.save("U2", "2405.00001", via="button")
    assert [s.paper_id for s in saves.saved("U1")] == ["2405.00003", "2405.00002", "2405.00001"]
    assert saves.saved("U3") == [] and saves.saved_ids("U3") == set()
    assert saves.savers("2405.00001") == {"U1", "U2"} and saves.savers("2405.99999") == set()
    assert saves.channels_of("U1") == {"C7"}
    saves.save("U4", "2405.00001", via="button")
    saves.save("U4", "2405.00002", via="button")
    assert [s.paper_id for s in saves.saved("U4")] == ["2405.00002", "2405.00001"], "within one second too"


def test_a_save_stays_while_any_reason_does(repos: Repositories) -> None:
    saves = repos.saves
    saves.save("U1", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
    saves.save("U1", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="star::skin-tone-2")
    saves.save("U1", "2405.12345", via="reaction", channel="C2", ts="2.2", reaction="bookmark")
    assert saves.remove_reaction("U1", "C1", "1.1", "bookmark").kept == ("2405.12345",)
    assert saves.remove_reaction("U1", "C1", "1.1", "star").kept == ("2405.12345",)
    assert saves.remove_reaction("U2", "C2", "2.2", "bookmark") == saves.remove_reaction("U1", "C9", "9.9", "x")
    last = saves.remove_reaction("U1", "C2", "2.2", "bookmark")
    assert (last.unsaved, last.kept, last.cancelled_pending) == (("2405.12345",), (), False)
    assert saves.get("U1", "2405.12345") is None


def test_an_explicit_save_outlives_reactions_but_not_an_unsave(repos: Repositories) -> None:
    saves = repos.saves
    saves.save("U1", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
    saves.save("U1", "2405.12345", via="button", channel="C1")
    assert saves.remove_reaction("U1", "C1", "1.1", "bookmark").kept == ("2405.12345",)
    assert saves.saved_ids("U1") == {"2405.12345"}
    saves.save("U1", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
    removed = saves.unsave("U1", "arXiv:2405.12345")
    assert removed is not None and removed.paper_id == "2405.12345"
    assert saves.saved_ids("U1") == set() and saves.unsave("U1", "2405.12345") is None
    assert saves.remove_reaction("U1", "C1", "1.1", "bookmark").unsaved == ()


def test_top_ranks_by_savers_then_recency_then_id(repos: Repositories) -> None:
    saves = repos.saves
    for user, paper, at in [("U1", "2405.00001", "2026-10-01"), ("U2", "2405.00001", "2026-10-02"),
                            ("U3", "2405.00001", "2026-11-20"), ("U1", "2405.00002", "2026-11-21"),
                            ("U2", "2405.00002", "2026-11-22"), ("U3", "2405.00003", "2026-11-23"),
                            ("U4", "2405.00005", "2026-11-23"), ("U4", "2405.00004", "2026-11-23")]:
        saves.save(user, paper, via="button", at=f"{at}T00:00:00Z")
    assert [(t.paper_id, t.users) for t in saves.top(limit=3)] == [
        ("2405.00001", ("U1", "U2", "U3")), ("2405.00002", ("U1", "U2")), ("2405.00003", ("U3",))]
    recent = saves.top(since="2026-11-15T00:00:00Z")
    assert [(t.paper_id, t.count) for t in recent] == [
        ("2405.00002", 2), ("2405.00003", 1), ("2405.00004", 1), ("2405.00005", 1), ("2405.00001", 1)]
    assert recent[0].last_saved_at == "2026-11-22T00:00:00.000000Z"
    saves.unsave("U1", "2405.00002")
    assert saves.top(since="2026-11-15T00:00:00Z", limit=1)[0].paper_id == "2405.00003"
    assert saves.top(limit=0) == []


def test_bad_saves_are_refused_and_change_nothing(repos: Repositories) -> None:
    with pytest.raises(ValueError):
        repos.saves.save("U1", "not a paper", via="button")
    with pytest.raises(ValueError):
        repos.saves.save("U1", "2405.12345", via="carrier pigeon")
    with pytest.raises(ValueError):
        repos.saves.save("U1", "2405.12345", via="reaction")  # a reaction save needs its message
    with pytest.raises(ValueError):
        repos.saves.save_many("U1", ["2405.00001", "nope"], via="button")
    assert repos.saves.saved("U1") == []


def test_a_restart_sees_the_same_reading_lists(backend: Backend, repos: Repositories) -> None:
    repos.saves.save("U1", "2405.00001", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
    repos.saves.save("U1", "2405.00002", via="button")
    repos.saves.save("U2", "2405.00002", via="command")
    repos.saves.unsave("U2", "2405.00002")
    reopened = backend.reopen().saves
    assert reopened.saved_ids("U1") == {"2405.00001", "2405.00002"} and reopened.saved_ids("U2") == set()
    assert reopened.remove_reaction("U1", "C1", "1.1", "bookmark").unsaved == ("2405.00001",)


def test_concurrent_saves_lose_nothing(backend: Backend, repos: Repositories) -> None:
    def user(n: int) -> None:
        repos.saves.save(f"U{n:03d}", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
        repos.saves.save(f"U{n:03d}", f"2405.{n:05d}", via="button")
        repos.saves.save("U999", f"2405.{n:05d}", via="reaction", channel="C1", ts=f"{n}.0", reaction="bookmark")

    together(20, user)
    reopened = backend.reopen().saves
    assert reopened.savers("2405.12345") == {f"U{n:03d}" for n in range(20)}
    assert all(reopened.saved_ids(f"U{n:03d}") == {"2405.12345", f"2405.{n:05d}"} for n in range(20))
    assert len(reopened.saved("U999")) == 20


def test_a_reaction_removed_after_an_add_wins_over_that_add_delivered_again_also_after_a_restart(
        backend: Backend, repos: Repositories) -> None:
    added = repos.saves.save_reaction("U1", "2405.12345", channel="C1", ts="1.1", reaction="bookmark",
                                      event_ts="1716200000.000100")
    assert added is not None and added.new
    assert repos.saves.remove_reaction("U1", "C1", "1.1", "bookmark::skin-tone-2",
                                       event_ts="1716200000.000200").unsaved == ("2405.12345",)
    reopened = backend.reopen().saves
    stale = reopened.save_reaction("U1", "2405.12345", channel="C1", ts="1.1", reaction="bookmark",
                                   event_ts="1716200000.000100")  # Slack delivers the add again
    assert stale is None and reopened.get("U1", "2405.12345") is None, "the later removal wins"
    other = reopened.save_reaction("U2", "2405.12345", channel="C1", ts="1.1", reaction="bookmark",
                                   event_ts="1716200000.000100")
    assert other is not None and other.new, "another user's reaction is another reaction"
    again = reopened.save_reaction("U1", "2405.12345", channel="C1", ts="1.1", reaction="bookmark",
                                   event_ts="1716200000.000300")
    assert again is not None and again.new, "a reaction added after the removal saves again"


@pytest.mark.parametrize("first_removal_processed", [True, False])
def test_a_removal_delivered_again_after_the_reaction_was_added_again_does_not_unsave(
        backend: Backend, repos: Repositories, first_removal_processed: bool) -> None:
    # add(t1) -> remove(t2) -> the user adds it again (t3) -> Slack delivers remove(t2) again (or late)
    saves = repos.saves
    assert saves.save_reaction("U1", "2405.12345", channel="C1", ts="1.1", reaction="bookmark",
                               event_ts="1716200000.000100") is not None
    if first_removal_processed:
        assert saves.remove_reaction("U1", "C1", "1.1", "bookmark",
                                     event_ts="1716200000.000200").unsaved == ("2405.12345",)
    readded = saves.save_reaction("U1", "2405.12345", channel="C1", ts="1.1", reaction="bookmark::skin-tone-2",
                                  event_ts="1716200000.000300")
    assert readded is not None and saves.get("U1", "2405.12345") is not None
    saves = backend.reopen().saves  # also across a restart
    stale = saves.remove_reaction("U1", "C1", "1.1", "bookmark", event_ts="1716200000.000200")
    assert stale.unsaved == () and stale.kept == () and not stale.cancelled_pending
    assert saves.get("U1", "2405.12345") is not None, "the reaction added last is still on"
    assert saves.save_reaction("U1", "2405.12345", channel="C1", ts="1.1", reaction="bookmark",
                               event_ts="1716200000.000300") is None, "the same add delivered again is ignored"
    later = saves.remove_reaction("U1", "C1", "1.1", "bookmark", event_ts="1716200000.000400")
    assert later.unsaved == ("2405.12345",), "a removal after the last add still unsaves"
    assert saves.remove_reaction("U1", "C1", "1.1", "bookmark", event_ts="1716200000.000400").unsaved == ()
