"""ArchiveRepository contract: one record per paper under its bare id, upsert merges, durable, concurrent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contract_backends import Backend, Repositories
from threads import together

from bot.papers import PaperRecord, new_record


def paper(arxiv_id: str, **fields: Any) -> PaperRecord:
    fields.setdefault("source", "hf")
    fields.setdefault("title", f"Paper {arxiv_id}")
    return new_record(arxiv_id, **fields)


def test_a_paper_is_found_under_any_spelling_of_its_id(repos: Repositories) -> None:
    archive = repos.archive
    assert archive.get("2405.12345") is None and "2405.12345" not in archive and len(archive) == 0
    assert archive.upsert([paper("2405.12345v2", title="Sparse autoencoders")]).new == ["2405.12345"]
    for spelling in ("2405.12345", "2405.12345v1", "arXiv:2405.12345", "https://arxiv.org/abs/2405.12345v3",
                     "https://huggingface.co/papers/2405.12345"):
        record = archive.get(spelling)
        assert record is not None and record["title"] == "Sparse autoencoders", spelling
        assert spelling in archive
    assert "not a paper" not in archive and 2405.12345 not in archive and archive.get("not a paper") is None
    assert len(archive) == 1


def test_upsert_reports_new_updated_and_unchanged(repos: Repositories) -> None:
    archive = repos.archive
    first = archive.upsert([paper("2401.00001", seen_at="2026-01-01T00:00:00Z"),
                            paper("2401.00002", seen_at="2026-01-01T00:00:00Z")])
    assert sorted(first.new) == ["2401.00001", "2401.00002"] and first.updated == [] and first.unchanged == []
    again = archive.upsert([
        paper("2401.00001", seen_at="2026-01-02T00:00:00Z"),  # only last_seen moves: not worth a write
        paper("2401.00002", upvotes=7),
        paper("2401.00003"),
    ])
    assert (again.new, again.updated, again.unchanged) == (["2401.00003"], ["2401.00002"], ["2401.00001"])
    record = archive.get("2401.00002")
    assert record is not None and record["upvotes"] == 7


def test_two_sightings_in_one_batch_are_one_record(repos: Repositories) -> None:
    result = repos.archive.upsert([paper("2401.00001v1", upvotes=3),
                                   paper("2401.00001v2", source="arxiv", title="The arXiv title")])
    assert result.new == ["2401.00001"] and len(repos.archive) == 1
    record = repos.archive.get("2401.00001")
    assert record is not None
    assert (record["title"], record["upvotes"], record["version"]) == ("The arXiv title", 3, 2)
    assert record["sources"] == ["hf", "arxiv"]


def test_merging_keeps_what_is_known(repos: Repositories) -> None:
    archive = repos.archive
    archive.upsert([paper("2401.00001", source="arxiv", title="Authoritative", categories=["cs.LG"],
                          seen_at="2026-01-05T00:00:00Z", published="2024-01-01T00:00:00Z")])
    archive.upsert([paper("2401.00001", title="A Hugging Face title", categories=["cs.CL"], upvotes=12,
                          seen_at="2026-01-01T00:00:00Z")])
    record = archive.get("2401.00001")
    assert record is not None
    assert record["title"] == "Authoritative", "arXiv is the authority for the title"
    assert record["categories"] == ["cs.LG", "cs.CL"] and record["upvotes"] == 12
    assert record["first_seen"] == "2026-01-01T00:00:00Z" and record["published"] == "2024-01-01T00:00:00Z"


def test_returned_records_are_the_callers_own(repos: Repositories) -> None:
    repos.archive.upsert([paper("2401.00001", authors=["Ada"])])
    record = repos.archive.get("2401.00001")
    assert record is not None
    record["title"] = "changed"
    many = repos.archive.get_many(["2401.00001"])
    many["2401.00001"]["title"] = "changed too"
    stored = repos.archive.get("2401.00001")
    assert stored is not None and stored["title"] == "Paper 2401.00001"


def test_get_many_leaves_unknown_ids_out(repos: Repositories) -> None:
    repos.archive.upsert([paper("2401.00001"), paper("2401.00002")])
    found = repos.archive.get_many(["2401.00002", "2401.99999", "2401.00001"])
    assert set(found) == {"2401.00001", "2401.00002"}
    assert found["2401.00002"]["id"] == "2401.00002"
    assert repos.archive.get_many([]) == {}


def test_snapshot_holds_every_record(repos: Repositories) -> None:
    repos.archive.upsert([paper(f"2401.{n:05d}") for n in range(30)])
    assert sorted(r["id"] for r in repos.archive.snapshot()) == [f"2401.{n:05d}" for n in range(30)]


def test_arrived_since_is_first_seen_or_listed_on_daily_papers(repos: Repositories) -> None:
    repos.archive.upsert([
        paper("2401.00001", seen_at="2026-03-01T08:00:00Z"),
        paper("2401.00002", seen_at="2026-03-02T09:00:00Z"),  # at the moment: in
        paper("2401.00003", seen_at="2026-02-01T00:00:00Z", hf_date="2026-03-02"),  # listed that day: in
        paper("2401.00004", seen_at="2026-02-01T00:00:00Z", hf_date="2026-03-01"),
    ])
    arrived = repos.archive.arrived_since(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert sorted(r["id"] for r in arrived) == ["2401.00002", "2401.00003"]


def test_subscribers_hear_of_every_change_and_nothing_else(repos: Repositories) -> None:
    heard: list[list[str]] = []
    repos.archive.subscribe(lambda records: heard.append(sorted(r["id"] for r in records)))
    repos.archive.upsert([paper("2401.00001", seen_at="2026-01-01T00:00:00Z")])
    repos.archive.upsert([paper("2401.00001", seen_at="2026-01-02T00:00:00Z")])  # unchanged
    repos.archive.upsert([paper("2401.00001", upvotes=5), paper("2401.00002")])
    assert heard == [["2401.00001"], ["2401.00001", "2401.00002"]]


def test_a_restart_sees_the_same_archive(backend: Backend, repos: Repositories) -> None:
    repos.archive.upsert([paper("2401.00001", upvotes=1), paper("2401.00002")])
    repos.archive.upsert([paper("2401.00001", upvotes=2)])
    reopened = backend.reopen().archive
    assert len(reopened) == 2
    record = reopened.get("2401.00001")
    assert record is not None and record["upvotes"] == 2


def test_records_written_by_an_earlier_version_load_and_merge(backend: Backend) -> None:
    old: dict[str, Any] = {"id": "2301.00001", "title": "Old record", "sources": ["hf"], "links": {},
                           "first_seen": "2023-01-01T00:00:00Z", "last_seen": "2023-01-01T00:00:00Z"}
    backend.seed("paper", "2301.00001", old)
    archive = backend.open().archive
    assert archive.upsert([paper("2301.00001", source="arxiv", title="New title")]).updated == ["2301.00001"]
    record = archive.get("2301.00001")
    assert record is not None and record["title"] == "New title" and record["first_seen"] == "2023-01-01T00:00:00Z"


def test_concurrent_upserts_lose_nothing(backend: Backend, repos: Repositories) -> None:
    def ingest(n: int) -> None:
        for i in range(10):
            repos.archive.upsert([paper(f"2402.{n * 100 + i:05d}"), paper("2402.99999", upvotes=n * 100 + i)])

    together(8, ingest)
    reopened = backend.reopen().archive
    assert len(reopened) == 81
    record = reopened.get("2402.99999")
    assert record is not None and record["upvotes"] is not None
