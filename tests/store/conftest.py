"""Fixtures of the storage contract suite: every test runs once per backend in contract_backends.BACKENDS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_backends import BACKENDS, Backend, Repositories


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened = BACKENDS[request.param](tmp_path / request.param)
    yield opened
    opened.close()


@pytest.fixture
def repos(backend: Backend) -> Repositories:
    return backend.open()
