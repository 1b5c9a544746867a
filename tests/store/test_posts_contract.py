"""PostLedgerRepository contract: a posted message finds its paper; recording is idempotent and durable."""

from __future__ import annotations

from contract_backends import Backend, Repositories
from threads import together


def test_messages_map_to_papers_per_channel(repos: Repositories) -> None:
    posts = repos.posts
    post = posts.record("C1", "1716200000.000100", "2405.12345", "digest", digest_date="2026-11-24")
    assert (post.channel, post.ts, post.paper_id, post.kind) == ("C1", "1716200000.000100", "2405.12345", "digest")
    posts.record("C1", "1716200001.000100", "2405.00001", "share")
    posts.record("C2", "1716200000.000100", "2405.00002", "digest")
    assert posts.paper_for("C1", "1716200000.000100") == "2405.12345"
    assert posts.paper_for("C2", "1716200000.000100") == "2405.00002"
    assert posts.paper_for("C2", "1716200001.000100") is None
    assert posts.papers_in("C1") == {"2405.12345", "2405.00001"} and posts.papers_in("C9") == set()
    assert posts.was_posted("C1", "2405.12345") and not posts.was_posted("C2", "2405.12345")


def test_recording_a_message_twice_is_one_post(repos: Repositories) -> None:
    repos.posts.record("C1", "1.1", "2405.12345", "digest")
    repos.posts.record("C1", "1.1", "2405.12345", "digest")  # a retried post
    assert repos.posts.papers_in("C1") == {"2405.12345"}
    assert repos.posts.paper_for("C1", "1.1") == "2405.12345"


def test_papers_in_is_the_callers_own(repos: Repositories) -> None:
    repos.posts.record("C1", "1.1", "2405.12345", "share")
    repos.posts.papers_in("C1").add("2405.99999")
    assert repos.posts.papers_in("C1") == {"2405.12345"}


def test_a_restart_sees_the_same_ledger(backend: Backend, repos: Repositories) -> None:
    repos.posts.record("C1", "1.1", "2405.12345", "digest", digest_date="2026-11-24", thread_ts="1.0")
    repos.posts.record("C1", "2.2", "2405.00001", "share")
    reopened = backend.reopen().posts
    assert reopened.paper_for("C1", "1.1") == "2405.12345"
    assert reopened.papers_in("C1") == {"2405.12345", "2405.00001"}


def test_concurrent_posts_lose_nothing(backend: Backend, repos: Repositories) -> None:
    together(16, lambda n: [repos.posts.record(f"C{n % 4}", f"{n}.{i}", f"2405.{n * 10 + i:05d}", "digest")
                            for i in range(5)])
    reopened = backend.reopen().posts
    for n in range(16):
        for i in range(5):
            assert reopened.paper_for(f"C{n % 4}", f"{n}.{i}") == f"2405.{n * 10 + i:05d}"
    assert sum(len(reopened.papers_in(f"C{c}")) for c in range(4)) == 80


def test_a_channels_posts_oldest_first_optionally_of_one_kind(backend: Backend, repos: Repositories) -> None:
    posts = repos.posts
    posts.record("C1", "1.1", "2405.00001", "digest", digest_date="2026-11-24")
    posts.record("C1", "2.2", "2405.00002", "share")
    posts.record("C2", "3.3", "2405.00003", "digest")
    posts.record("C1", "4.4", "2405.00004", "digest")
    assert [p.paper_id for p in posts.posts_in("C1")] == ["2405.00001", "2405.00002", "2405.00004"]
    assert [(p.ts, p.kind) for p in backend.reopen().posts.posts_in("C1", kind="digest")] == [
        ("1.1", "digest"), ("4.4", "digest")]
    assert posts.posts_in("C9") == []
