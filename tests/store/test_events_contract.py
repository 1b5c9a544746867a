"""EventDedupRepository contract: each Slack delivery is handled once, unless its handling is forgotten."""

from __future__ import annotations

from contract_backends import Backend, Repositories
from threads import together


def test_a_key_is_a_first_delivery_once(repos: Repositories) -> None:
    assert repos.events.first_delivery("Ev1") is True
    assert repos.events.first_delivery("Ev1") is False
    assert repos.events.first_delivery("Ev2") is True


def test_a_forgotten_key_is_let_through_again(repos: Repositories) -> None:
    assert repos.events.first_delivery("Ev1")
    repos.events.forget("Ev1")
    repos.events.forget("never seen")
    assert repos.events.first_delivery("Ev1") is True
    assert repos.events.first_delivery("Ev1") is False


def test_concurrent_deliveries_of_one_event_have_one_winner(repos: Repositories) -> None:
    results = together(16, lambda n: repos.events.first_delivery("Ev1"))
    assert sorted(results) == [False] * 15 + [True]


def test_a_restart_remembers_only_if_the_backend_is_durable(backend: Backend, repos: Repositories) -> None:
    repos.events.first_delivery("Ev1")
    assert backend.reopen().events.first_delivery("Ev1") is (not backend.durable_events)
