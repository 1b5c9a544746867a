"""Run test jobs on many threads at once (for "concurrent writers lose nothing" tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def together(count: int, job: Callable[[int], Any]) -> list[Any]:
    """Run `job(0)` … `job(count - 1)` on as many threads, released at once; their results (errors re-raised)."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            start.wait(10)
            results[n] = job(n)
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if errors:
        raise errors[0]
    return results
