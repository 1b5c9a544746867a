"""Child process for the crash test: a fork server whose children write in a loop and print `ack N` after
each write returns, until they are killed.

Usage: python tests/store/storage_writer.py DATA_DIR
It imports everything once and prints `ready`; then for every line on stdin, a number N, it forks a writer
that starts at key N and prints `pid PID`, and it prints `dead` once that writer has been killed. Forking
from a warm process instead of starting Python each round is what makes many kill rounds cheap. Each writer
iteration commits one transaction that touches two stores' worth of data (a save in "saves", and a new paper
plus an update of an early record in "archive"), so a kill can land inside either file's rewrite.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tinydb.table import Document

from bot.papers import new_record
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.files import DataDir


def write_forever(path: Path, start: int) -> None:
    data_dir = DataDir(path)
    saves = data_dir.store("saves")
    archive = Archive(data_dir.store("archive"))
    n = start
    print("ready", flush=True)
    while True:
        with saves.transaction():
            saves.table("saves").insert(Document(  # a save document: the store checks the shape on load
                {"user": "U0", "paper_id": f"2401.{n:05d}", "saved_at": "2026-01-01T00:00:00Z", "n": n,
                 "pad": "x" * 200}, doc_id=f"k{n}"))
        # A new paper plus a re-sighting of the first seed paper whose title length changes: an update near
        # the start of the file, which is what corrupts a file rewritten in place.
        archive.upsert([
            new_record(f"2401.{n:05d}", source="arxiv", title=f"Paper {n}", abstract="y" * 1000),
            new_record("2301.00000", source="hf", title="Seed " + "w" * (n % 97), upvotes=n),
        ])
        print(f"ack {n}", flush=True)
        n += 1


def main() -> None:
    path = Path(sys.argv[1])
    print("ready", flush=True)
    for line in sys.stdin:
        start = int(line)
        pid = os.fork()
        if pid == 0:
            try:
                write_forever(path, start)
            finally:
                os._exit(1)
        print(f"pid {pid}", flush=True)
        os.waitpid(pid, 0)
        print("dead", flush=True)


if __name__ == "__main__":
    main()
