"""The composition root (bot/services.py): what each variant opens, locks and loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.papers import new_record
from bot.services import IngestServices, ReadOnlyServices, Services
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.files import CorruptStoreError, DataDir, DataDirBusyError, StoreError


def settings_for(data: Path) -> Settings:
    return load_settings({"PAPERBOT_DATA_DIR": str(data)})


def corrupt(data: Path, store: str) -> None:
    data.mkdir(exist_ok=True)
    (data / f"{store}.json").write_bytes(b'{"cut short')


def test_the_writer_is_complete_holds_the_lock_and_its_index_follows_the_archive(tmp_path: Path) -> None:
    with Services.open(settings_for(tmp_path)) as services:
        assert all(getattr(services, name) is not None for name in Services.__dataclass_fields__)
        with pytest.raises(DataDirBusyError):
            DataDir(tmp_path)
        services.archive.upsert([new_record("2405.00001", source="hf", title="Sparse autoencoders")])
        assert [hit.paper["id"] for hit in services.index.search("sparse autoencoders").hits] == ["2405.00001"]
        assert services.digests.archive is services.archive
    DataDir(tmp_path).close()  # released


def test_a_store_that_does_not_load_stops_the_writer_and_releases_the_lock(tmp_path: Path) -> None:
    corrupt(tmp_path, "saves")
    with pytest.raises(CorruptStoreError, match=r"saves\.json is not valid JSON"):
        Services.open(settings_for(tmp_path))
    DataDir(tmp_path).close()


def test_ingest_opens_the_archive_under_the_lock(tmp_path: Path) -> None:
    with IngestServices.open(settings_for(tmp_path)) as services:
        assert services.sources.hf is not None and services.sources.arxiv is not None
        with pytest.raises(DataDirBusyError):
            DataDir(tmp_path)
        services.archive.upsert([new_record("2405.00001", source="hf", title="Sparse autoencoders")])
    with ReadOnlyServices.open(settings_for(tmp_path)) as reader:
        assert len(reader.archive) == 1


def test_the_reader_works_beside_the_writer_and_loads_only_what_it_reads(tmp_path: Path) -> None:
    with DataDir(tmp_path) as writer:  # a running bot
        Archive(writer.store("archive")).upsert([new_record("2405.00001", source="hf", title="Sparse autoencoders")])
        corrupt(tmp_path, "saves")
        with ReadOnlyServices.open(settings_for(tmp_path)) as reader:
            assert [hit.paper["id"] for hit in reader.index.search("autoencoders").hits] == ["2405.00001"]
            with pytest.raises(CorruptStoreError, match=r"saves\.json"):
                reader.load_all()  # what `paperbot run` would refuse (doctor's check)


def test_the_reader_needs_the_data_directory_to_exist(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        ReadOnlyServices.open(settings_for(tmp_path / "nowhere"))
    assert not (tmp_path / "nowhere").exists()
