"""PendingReactionQueue contract: a durable work queue whose completion is atomic with its saves."""

from __future__ import annotations

from contract_backends import Backend, Repositories
from threads import together


def test_queuing_twice_is_one_entry_and_it_is_durable(backend: Backend, repos: Repositories) -> None:
    pending = repos.pending.add_pending("U1", "C1", "5.5", "bookmark::skin-tone-2", at="2026-11-24T10:00:00Z")
    assert (pending.user, pending.channel, pending.ts, pending.reaction, pending.attempts) == (
        "U1", "C1", "5.5", "bookmark", 0)
    assert repos.pending.add_pending("U1", "C1", "5.5", "bookmark") == pending, "a retried event queues it once"
    reopened = backend.reopen().pending
    assert reopened.pending() == [pending]
    assert reopened.get_pending(pending.key) == pending and reopened.get_pending("nope") is None


def test_pending_is_oldest_first(repos: Repositories) -> None:
    repos.pending.add_pending("U1", "C1", "2.2", "bookmark", at="2026-11-24T10:00:02Z")
    repos.pending.add_pending("U2", "C1", "1.1", "bookmark", at="2026-11-24T10:00:01Z")
    repos.pending.add_pending("U1", "C2", "3.3", "bookmark", at="2026-11-24T10:00:03Z")
    assert [(p.user, p.ts) for p in repos.pending.pending()] == [("U2", "1.1"), ("U1", "2.2"), ("U1", "3.3")]


def test_completing_saves_the_papers_once(backend: Backend, repos: Repositories) -> None:
    pending = repos.pending.add_pending("U1", "C1", "5.5", "bookmark")
    outcomes = repos.pending.complete_pending(pending.key, ["2405.00001", "arXiv:2405.00002v3"])
    assert outcomes is not None and [(o.save.paper_id, o.new) for o in outcomes] == [
        ("2405.00001", True), ("2405.00002", True)]
    assert all(o.save.via == "reaction" and o.save.reactions == ("C1:5.5:bookmark",) for o in outcomes)
    assert repos.pending.pending() == []
    assert repos.pending.complete_pending(pending.key, ["2405.00003"]) is None, "a second worker saves nothing"
    reopened = backend.reopen()
    assert reopened.saves.saved_ids("U1") == {"2405.00001", "2405.00002"} and reopened.pending.pending() == []
    # The papers of the person's message go when the reaction does.
    assert set(reopened.saves.remove_reaction("U1", "C1", "5.5", "bookmark").unsaved) == {"2405.00001", "2405.00002"}


def test_removing_the_reaction_cancels_it(backend: Backend, repos: Repositories) -> None:
    pending = repos.pending.add_pending("U1", "C1", "6.6", "bookmark")
    other = repos.pending.add_pending("U2", "C1", "6.6", "bookmark")
    unreacted = repos.saves.remove_reaction("U1", "C1", "6.6", "bookmark::skin-tone-4")
    assert unreacted.cancelled_pending and unreacted.unsaved == ()
    assert repos.pending.complete_pending(pending.key, ["2405.00004"]) is None
    assert repos.saves.saved_ids("U1") == set()
    assert backend.reopen().pending.pending() == [other], "only that user's reaction is cancelled"


def test_failed_attempts_are_counted_and_an_entry_can_be_dropped(backend: Backend, repos: Repositories) -> None:
    pending = repos.pending.add_pending("U1", "C1", "5.5", "bookmark")
    assert repos.pending.retry_pending(pending.key) == 1
    assert repos.pending.retry_pending(pending.key) == 2
    reopened = backend.reopen().pending
    assert reopened.pending()[0].attempts == 2
    assert reopened.drop_pending(pending.key) is True and reopened.pending() == []
    assert reopened.drop_pending(pending.key) is False
    assert reopened.retry_pending(pending.key) is None
    assert reopened.complete_pending(pending.key, ["2405.00001"]) is None


def test_concurrent_workers_complete_an_entry_once(repos: Repositories) -> None:
    pending = repos.pending.add_pending("U1", "C1", "5.5", "bookmark")
    results = together(8, lambda n: repos.pending.complete_pending(pending.key, [f"2405.{n:05d}"]))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert repos.saves.saved_ids("U1") == {winners[0][0].save.paper_id}


def test_concurrent_reactions_are_all_queued(backend: Backend, repos: Repositories) -> None:
    together(20, lambda n: repos.pending.add_pending(f"U{n}", "C1", f"{n % 3}.0", "bookmark"))
    assert len(backend.reopen().pending.pending()) == 20


def test_a_pending_reaction_removed_later_is_not_queued_again_by_its_redelivered_add(
        backend: Backend, repos: Repositories) -> None:
    first = repos.pending.add_pending_reaction("U1", "C1", "5.5", "bookmark", event_ts="1716200000.000100")
    assert first is not None
    assert repos.saves.remove_reaction("U1", "C1", "5.5", "bookmark", event_ts="1716200000.000200").cancelled_pending
    reopened = backend.reopen()
    assert reopened.pending.add_pending_reaction("U1", "C1", "5.5", "bookmark::skin-tone-3",
                                                 event_ts="1716200000.000100") is None
    assert reopened.pending.pending() == []
    later = reopened.pending.add_pending_reaction("U1", "C1", "5.5", "bookmark", event_ts="1716200001.000000")
    assert later is not None and reopened.pending.pending() == [later]


def test_a_removal_delivered_again_after_the_reaction_was_added_again_does_not_cancel_the_new_entry(
        backend: Backend, repos: Repositories) -> None:
    assert repos.pending.add_pending_reaction("U1", "C1", "5.5", "bookmark", event_ts="1716200000.000100")
    assert repos.saves.remove_reaction("U1", "C1", "5.5", "bookmark", event_ts="1716200000.000200").cancelled_pending
    again = repos.pending.add_pending_reaction("U1", "C1", "5.5", "bookmark", event_ts="1716200000.000300")
    assert again is not None
    reopened = backend.reopen()
    stale = reopened.saves.remove_reaction("U1", "C1", "5.5", "bookmark", event_ts="1716200000.000200")
    assert not stale.cancelled_pending
    assert reopened.pending.pending() == [again], "the reaction added last is still waiting to be read"
