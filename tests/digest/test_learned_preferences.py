"""A channel's feedback changes what its digest would pick, through the real stores, the relevance engine with
the bundled model, the channel models and DigestService (what `/papers topics try` and `paperbot match
--channel` show): the team saves the on-topic papers among the first 30 offered and marks the rest "Not
relevant" (judgements from tests/relevance/topics_labels.jsonl, real arXiv papers); on the papers it was not
offered, more of what it now picks is on topic."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "bench")]

from embedding_model import needs_model  # noqa: E402
from real_corpus import VECTORS, load_records  # noqa: E402
from relevance_eval import LABELS, TOPICS, load_labels  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.relevance.engine import VECTORS_FILE  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.store.tinydb.archive import Archive  # noqa: E402
from bot.store.tinydb.files import DataDir  # noqa: E402

TOPIC = "stochastic differential equations"
CHANNEL = "C0PROB"
FEEDBACK = 30

pytestmark = [pytest.mark.e2e, needs_model]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    data = tmp_path_factory.mktemp("data")
    seen = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    records = [{**r, "first_seen": seen} for r in load_records()]
    with DataDir(data) as seed:
        Archive(seed.store("archive")).upsert(records)
    shutil.copy(VECTORS, data / VECTORS_FILE)  # the corpus's vectors, as ingest would have stored them
    settings = load_settings({"PAPERBOT_DATA_DIR": str(data), "PAPERBOT_EMBEDDINGS": "auto",
                              "PAPERBOT_LOG_LEVEL": "WARNING"})
    with Services.open(settings) as opened:
        assert opened.keeper.wait_idle(60)
        counts = Counter(c for r in records for c in r.get("categories") or [])
        opened.channels.watch(CHANNEL, TOPIC, "U0ALICE")
        opened.channels.set_sources(CHANNEL, "U0ALICE", [c for c, _ in counts.most_common(20)], datetime.now(UTC))
        yield opened


def precision(ids: set[str], relevant: set[str]) -> float:
    return len(ids & relevant) / len(ids) if ids else 1.0


def test_feedback_on_the_first_30_papers_makes_the_unseen_picks_more_on_topic(services: Services) -> None:
    relevant = next(t["relevant"] for t in load_labels(TOPICS, LABELS) if t["topic"] == TOPIC)
    since = datetime.now(UTC) - timedelta(days=30)
    channel = services.channels.digest(CHANNEL)
    before = services.digests.trial(TOPIC, since, channel)
    offered = [m.paper_id for m in before.matches[:FEEDBACK]]
    assert len(offered) == FEEDBACK and 0 < len(set(offered) & relevant) < FEEDBACK

    for i, pid in enumerate(offered):  # the digest posted them; the team reacts
        ts = f"1717000000.{i:06d}"
        services.posts.record(CHANNEL, ts, pid, "digest")
        if pid in relevant:
            services.saves.save("U0BOB", pid, via="button", channel=CHANNEL, ts=ts)
        else:
            services.feedback.mark(CHANNEL, pid, "U0BOB", via="button", ts=ts)

    after = services.digests.trial(TOPIC, since, channel)
    unseen_before = {m.paper_id for m in before.matches} - set(offered)
    unseen_after = {m.paper_id for m in after.matches} - set(offered)
    assert unseen_after != unseen_before, "the channel's feedback changed nothing"
    assert precision(unseen_after, relevant) > precision(unseen_before, relevant)
    # One channel is a small sample (the bound on recall is checked over many simulated channels in
    # tests/relevance/test_learning_simulated_team.py): here most of what it caught is still caught.
    on_topic = relevant - set(offered)
    assert len(unseen_after & on_topic) >= 0.75 * len(unseen_before & on_topic)
