"""The posted-message ledger: reactions find their paper, and it survives a restart."""

from pathlib import Path

from bot.store.tinydb.files import DataDir
from bot.store.tinydb.posts import PostLedger


def test_ledger_maps_messages_to_papers_and_survives_restart(tmp_path: Path) -> None:
    with DataDir(tmp_path) as data_dir:
        ledger = PostLedger(data_dir.store("posts"))
        ledger.record("C1", "1716200000.000100", "2405.12345", "digest", digest_date="2026-11-24")
        ledger.record("C1", "1716200001.000100", "2405.00001", "share")
        ledger.record("C2", "1716200000.000100", "2405.00002", "digest")
        assert ledger.paper_for("C1", "1716200000.000100") == "2405.12345"
        assert ledger.paper_for("C2", "1716200001.000100") is None
    with DataDir(tmp_path) as data_dir:
        ledger = PostLedger(data_dir.store("posts"))
        assert len(ledger) == 3
        assert ledger.paper_for("C2", "1716200000.000100") == "2405.00002"
        assert ledger.papers_in("C1") == {"2405.12345", "2405.00001"}
        assert ledger.was_posted("C1", "2405.12345") and not ledger.was_posted("C2", "2405.12345")
        # Re-recording the same message (a retried post) updates, never duplicates.
        ledger.record("C1", "1716200000.000100", "2405.12345", "digest")
        assert len(ledger) == 3
