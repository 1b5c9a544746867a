"""DigestLedgerRepository contract: the plan is stored once per (channel, day), first writer wins, old
documents are pruned, progress is recorded field by field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from contract_backends import Backend, Repositories
from threads import together

from bot.digest.selection import Pick, Plan

DAY = date(2026, 11, 24)


def plan(channel: str = "C1", day: date = DAY, picks: tuple[str, ...] = ("2411.00001", "2411.00002")) -> Plan:
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
    return Plan(channel=channel, day=day, since=at - timedelta(days=1), planned_at=at,
                picks=[Pick(pid, 0.123456, "sparse autoencoders") for pid in picks], skipped=["2411.00009"],
                candidates=40)


def test_create_stores_the_plan_before_anything_is_posted(repos: Repositories) -> None:
    ledger = repos.digest_ledger
    assert ledger.get("C1", DAY) is None
    doc = ledger.create(plan(), "schedule", keep_days=30)
    assert (doc["channel"], doc["date"], doc["trigger"], doc["status"]) == ("C1", "2026-11-24", "schedule", "planned")
    assert doc["picks"] == [{"id": "2411.00001", "score": 0.1235, "topic": "sparse autoencoders"},
                            {"id": "2411.00002", "score": 0.1235, "topic": "sparse autoencoders"}]
    assert (doc["skipped"], doc["candidates"], doc["attempts"], doc["posted"]) == (["2411.00009"], 40, 0, 0)
    assert (doc["planned_at"], doc["since"]) == ("2026-11-24T08:00:00Z", "2026-11-23T08:00:00Z")
    assert doc["header_ts"] is None and doc["done_at"] is None
    assert ledger.get("C1", DAY) == doc


def test_the_first_plan_of_a_day_stands(repos: Repositories) -> None:
    first = repos.digest_ledger.create(plan(picks=("2411.00001",)), "schedule", keep_days=30)
    second = repos.digest_ledger.create(plan(picks=("2411.00005", "2411.00006")), "command", keep_days=30)
    assert second == first and second["trigger"] == "schedule"
    assert [p["id"] for p in second["picks"]] == ["2411.00001"]


def test_concurrent_creates_agree_on_one_plan(repos: Repositories) -> None:
    docs = together(8, lambda n: repos.digest_ledger.create(plan(picks=(f"2411.{n:05d}",)), f"t{n}", keep_days=30))
    assert all(doc == docs[0] for doc in docs)
    assert repos.digest_ledger.get("C1", DAY) == docs[0]


def test_creating_prunes_the_channels_old_documents(repos: Repositories) -> None:
    ledger = repos.digest_ledger
    for days_ago in (40, 31, 30, 5):
        ledger.create(plan(day=DAY - timedelta(days=days_ago)), "schedule", keep_days=30)
    ledger.create(plan(channel="C2", day=DAY - timedelta(days=40)), "schedule", keep_days=30)
    ledger.create(plan(), "schedule", keep_days=30)
    kept = ledger.by_channel()
    assert [d["date"] for d in kept["C1"]] == ["2026-11-24", "2026-11-19", "2026-10-25"]
    assert [d["date"] for d in kept["C2"]] == ["2026-10-15"], "another channel's documents stay"


def test_update_and_attempts(repos: Repositories) -> None:
    ledger = repos.digest_ledger
    ledger.create(plan(), "schedule", keep_days=30)
    assert ledger.start_attempt("C1", DAY) == 0
    assert ledger.start_attempt("C1", DAY) == 1
    ledger.update("C1", DAY, header_ts="1.0", last_error="ratelimited")
    ledger.update("C1", DAY, status="done", done_at="2026-11-24T08:01:00Z", posted=2)
    doc = ledger.get("C1", DAY)
    assert doc is not None
    assert (doc["status"], doc["posted"], doc["header_ts"], doc["last_error"], doc["attempts"]) == (
        "done", 2, "1.0", "ratelimited", 2)
    assert len(doc["picks"]) == 2, "fields not given stay"
    with pytest.raises(KeyError):
        ledger.update("C1", DAY + timedelta(days=1), status="done")


def test_unfinished_and_by_channel(repos: Repositories) -> None:
    ledger = repos.digest_ledger
    for day in (DAY - timedelta(days=2), DAY - timedelta(days=1), DAY):
        ledger.create(plan(day=day), "schedule", keep_days=30)
    ledger.create(plan(channel="C2"), "command", keep_days=30)
    ledger.update("C1", DAY - timedelta(days=1), status="done")
    assert sorted((d["channel"], d["date"]) for d in ledger.unfinished()) == [
        ("C1", "2026-11-22"), ("C1", "2026-11-24"), ("C2", "2026-11-24")]
    recent = ledger.by_channel(since=DAY - timedelta(days=1))
    assert {c: [d["date"] for d in docs] for c, docs in recent.items()} == {
        "C1": ["2026-11-24", "2026-11-23"], "C2": ["2026-11-24"]}


def test_returned_documents_are_the_callers_own(repos: Repositories) -> None:
    created = repos.digest_ledger.create(plan(), "schedule", keep_days=30)
    created["picks"][0]["id"] = "mutated"
    got = repos.digest_ledger.get("C1", DAY)
    assert got is not None and got["picks"][0]["id"] == "2411.00001"
    got["picks"].clear()
    unfinished = repos.digest_ledger.unfinished()
    unfinished[0]["picks"][0]["topic"] = "mutated"
    again = repos.digest_ledger.get("C1", DAY)
    assert again is not None and again["picks"][0] == {"id": "2411.00001", "score": 0.1235,
                                                       "topic": "sparse autoencoders"}


def test_a_restart_sees_the_same_ledger(backend: Backend, repos: Repositories) -> None:
    repos.digest_ledger.create(plan(), "schedule", keep_days=30)
    repos.digest_ledger.start_attempt("C1", DAY)
    repos.digest_ledger.update("C1", DAY, header_ts="1.0")
    doc = backend.reopen().digest_ledger.get("C1", DAY)
    assert doc is not None and (doc["attempts"], doc["header_ts"], doc["status"]) == (1, "1.0", "planned")


def test_the_ledgers_do_not_touch_each_other(backend: Backend, repos: Repositories) -> None:
    repos.digest_ledger.create(plan(), "schedule", keep_days=30)
    repos.posts.record("C1", "1.1", "2411.00001", "digest", digest_date="2026-11-24")
    repos.digest_ledger.update("C1", DAY, posted=1)
    reopened = backend.reopen()
    assert reopened.posts.paper_for("C1", "1.1") == "2411.00001"
    doc = reopened.digest_ledger.get("C1", DAY)
    assert doc is not None and doc["posted"] == 1
    assert reopened.digest_ledger.by_channel() == {"C1": [doc]}
