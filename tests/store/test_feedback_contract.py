"""FeedbackRepository contract: a channel's "not relevant" feedback per person and source, idempotent, durable,
taken back per source, and the latest reaction event wins over redeliveries."""

from __future__ import annotations

import pytest
from contract_backends import Backend, Repositories
from threads import together

from bot.store.models import NOT_RELEVANT


def in_force(repos: Repositories, channel: str = "C1") -> list[tuple[str, str, str]]:
    return [(f.paper_id, f.user, f.via) for f in repos.feedback.in_channel(channel)]


def test_feedback_records_who_what_where_when_and_survives_a_restart(backend: Backend, repos: Repositories) -> None:
    outcome = repos.feedback.mark("C1", "https://arxiv.org/abs/2405.12345v2", "U1", via="button",
                                  ts="1716200000.000100", at="2026-11-24T10:00:00Z")
    assert outcome is not None and outcome.new
    [stored] = backend.reopen().feedback.in_channel("C1")
    assert (stored.channel, stored.paper_id, stored.user, stored.kind, stored.via, stored.ts, stored.at) == (
        "C1", "2405.12345", "U1", NOT_RELEVANT, "button", "1716200000.000100", "2026-11-24T10:00:00.000000Z")


def test_giving_the_same_feedback_twice_is_one_record_that_keeps_the_first_time(repos: Repositories) -> None:
    repos.feedback.mark("C1", "2405.12345", "U1", via="button", at="2026-11-24T10:00:00Z")
    again = repos.feedback.mark("C1", "2405.12345v1", "U1", via="button", at="2026-11-25T10:00:00Z")
    assert again is not None and not again.new, "a double click changes nothing"
    assert again.feedback.at.startswith("2026-11-24")
    assert in_force(repos) == [("2405.12345", "U1", "button")]


def test_feedback_is_per_channel_person_and_source_oldest_first(repos: Repositories) -> None:
    fb = repos.feedback
    fb.mark("C1", "2405.00002", "U1", via="button", at="2026-11-02T00:00:00Z")
    fb.mark("C1", "2405.00001", "U1", via="button", at="2026-11-01T00:00:00Z")
    fb.mark("C1", "2405.00001", "U2", via="reaction", reaction="-1", ts="1.1", at="2026-11-03T00:00:00Z")
    fb.mark("C1", "2405.00001", "U2", via="button", at="2026-11-04T00:00:00Z")
    fb.mark("C2", "2405.00001", "U1", via="button")
    assert in_force(repos) == [("2405.00001", "U1", "button"), ("2405.00002", "U1", "button"),
                               ("2405.00001", "U2", "reaction"), ("2405.00001", "U2", "button")]
    assert in_force(repos, "C2") == [("2405.00001", "U1", "button")] and in_force(repos, "C9") == []


def test_taking_one_source_back_leaves_the_others(backend: Backend, repos: Repositories) -> None:
    fb = repos.feedback
    fb.mark("C1", "2405.12345", "U1", via="button")
    fb.mark("C1", "2405.12345", "U1", via="reaction", reaction="-1::skin-tone-3", ts="1.1")
    removed = fb.unmark("C1", "2405.12345", "U1", via="reaction", reaction="-1")
    assert removed is not None and removed.via == "reaction" and removed.reaction == "-1", "skin tones are one emoji"
    assert fb.unmark("C1", "2405.12345", "U1", via="reaction", reaction="-1") is None, "nothing left to take back"
    assert fb.unmark("C1", "2405.12345", "U2", via="button") is None, "someone else's stays"
    assert in_force(repos) == [("2405.12345", "U1", "button")]
    assert fb.unmark("C1", "2405.12345", "U1", via="button") is not None
    assert in_force(repos) == [] and backend.reopen().feedback.in_channel("C1") == []


def test_feedback_given_again_after_it_was_taken_back_is_new_with_its_new_time(repos: Repositories) -> None:
    fb = repos.feedback
    fb.mark("C1", "2405.12345", "U1", via="button", at="2026-11-24T10:00:00Z")
    fb.unmark("C1", "2405.12345", "U1", via="button")
    again = fb.mark("C1", "2405.12345", "U1", via="button", at="2026-11-26T10:00:00Z")
    assert again is not None and again.new and again.feedback.at.startswith("2026-11-26")


def test_a_redelivered_add_after_the_removal_does_not_give_it_again(backend: Backend, repos: Repositories) -> None:
    fb = repos.feedback
    args = {"via": "reaction", "reaction": "-1", "ts": "1.1"}
    assert fb.mark("C1", "2405.12345", "U1", event_ts="1716200000.000100", **args) is not None
    assert fb.unmark("C1", "2405.12345", "U1", via="reaction", reaction="-1", event_ts="1716200000.000200")
    assert fb.mark("C1", "2405.12345", "U1", event_ts="1716200000.000100", **args) is None, "Slack's retry"
    assert in_force(repos) == []
    reopened = backend.reopen().feedback
    assert reopened.mark("C1", "2405.12345", "U1", event_ts="1716200000.000100", **args) is None, \
        "also after a restart"
    assert reopened.mark("C1", "2405.12345", "U1", event_ts="1716200000.000300", **args) is not None, \
        "a later add counts"
    assert [f.user for f in reopened.in_channel("C1")] == ["U1"]


def test_a_redelivered_removal_after_the_reaction_was_added_again_keeps_it(repos: Repositories) -> None:
    fb = repos.feedback
    args = {"via": "reaction", "reaction": "-1"}
    fb.mark("C1", "2405.12345", "U1", event_ts="1716200000.000100", ts="1.1", **args)
    fb.unmark("C1", "2405.12345", "U1", event_ts="1716200000.000200", **args)
    fb.mark("C1", "2405.12345", "U1", event_ts="1716200000.000300", ts="1.1", **args)
    assert fb.unmark("C1", "2405.12345", "U1", event_ts="1716200000.000200", **args) is None
    assert fb.unmark("C1", "2405.12345", "U1", event_ts="1716200000.000300", **args) is None, "the add itself"
    assert in_force(repos) == [("2405.12345", "U1", "reaction")]


def test_a_removal_that_arrives_before_its_add_wins(repos: Repositories) -> None:
    fb = repos.feedback
    assert fb.unmark("C1", "2405.12345", "U1", via="reaction", reaction="-1", event_ts="1716200000.000200") is None
    late = fb.mark("C1", "2405.12345", "U1", via="reaction", reaction="-1", ts="1.1", event_ts="1716200000.000100")
    assert late is None and in_force(repos) == []


def test_a_repeated_add_is_not_new(repos: Repositories) -> None:
    fb = repos.feedback
    first = fb.mark("C1", "2405.12345", "U1", via="reaction", reaction="-1", ts="1.1", event_ts="1716200000.000100")
    again = fb.mark("C1", "2405.12345", "U1", via="reaction", reaction="-1", ts="1.1", event_ts="1716200000.000100")
    assert first is not None and first.new and again is None, "the same event again: ignored"
    assert len(fb.in_channel("C1")) == 1


def test_what_the_repository_refuses(repos: Repositories) -> None:
    fb = repos.feedback
    with pytest.raises(ValueError):
        fb.mark("C1", "not a paper", "U1", via="button")
    with pytest.raises(ValueError):
        fb.mark("C1", "2405.12345", "U1", via="button", kind="save")
    with pytest.raises(ValueError):
        fb.mark("C1", "2405.12345", "U1", via="carrier pigeon")
    with pytest.raises(ValueError):
        fb.mark("C1", "2405.12345", "U1", via="reaction")
    assert fb.in_channel("C1") == []
    assert fb.unmark("C1", "not a paper", "U1", via="button") is None


def test_concurrent_feedback_loses_nothing(backend: Backend, repos: Repositories) -> None:
    def give(n: int) -> None:
        for i in range(4):
            repos.feedback.mark(f"C{n % 2}", f"2405.{n * 10 + i:05d}", f"U{n}", via="button")
            repos.feedback.mark(f"C{n % 2}", f"2405.{n * 10 + i:05d}", f"U{n}", via="reaction", reaction="-1",
                                ts=f"{n}.{i}", event_ts=f"17162000{n:02d}.00010{i}")
        repos.feedback.unmark(f"C{n % 2}", f"2405.{n * 10:05d}", f"U{n}", via="button")

    together(16, give)
    reopened = backend.reopen().feedback
    found = reopened.in_channel("C0") + reopened.in_channel("C1")
    assert len(found) == 16 * 7
    assert {(f.paper_id, f.user) for f in found if f.via == "button"} == {
        (f"2405.{n * 10 + i:05d}", f"U{n}") for n in range(16) for i in range(1, 4)}
