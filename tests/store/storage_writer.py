"""Child process for the crash test: writes in a loop and prints `ack N` after each write returns.

Usage: python tests/store/storage_writer.py DATA_DIR START
Each iteration commits one transaction that touches two stores' worth of data (a save in "saves", and a new
paper plus an update of an early record in "archive"), so a kill can land inside either file's rewrite.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tinydb.table import Document

from bot.papers import new_record
from bot.store.files import DataDir
from bot.store.tinydb.archive import Archive


def main() -> None:
    data_dir = DataDir(Path(sys.argv[1]))
    start = int(sys.argv[2])
    saves = data_dir.store("saves")
    archive = Archive(data_dir.store("archive"))
    n = start
    print("ready", flush=True)
    while True:
        with saves.transaction():
            saves.table("saves").insert(Document({"n": n, "pad": "x" * 200}, doc_id=f"k{n}"))
        # A new paper plus a re-sighting of the first seed paper whose title length changes: an update near
        # the start of the file, which is what corrupts a file rewritten in place.
        archive.upsert([
            new_record(f"2401.{n:05d}", source="arxiv", title=f"Paper {n}", abstract="y" * 1000),
            new_record("2301.00000", source="hf", title="Seed " + "w" * (n % 97), upvotes=n),
        ])
        print(f"ack {n}", flush=True)
        n += 1


if __name__ == "__main__":
    main()
