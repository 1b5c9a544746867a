"""Text normalisation for search: folding, tokens, stems, and the vectorised tokeniser agreeing with it."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bot.search.bulk import TermTable, tokenize
from bot.search.postings import fold_batch
from bot.search.text import STOP_STEMS, compounds, fold, fold_bytes, stem, term_hash, terms, words


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Schölkopf", "scholkopf"),
        ("SCHOLKOPF", "scholkopf"),
        ("Łukasz Kaiser", "lukasz kaiser"),
        ("Ørsted Straße", "orsted strasse"),
        ("naïve café", "naive cafe"),
        ("ﬁne-tuning", "fine-tuning"),  # a ligature
        ("e\u0301te\u0301", "ete"),  # decomposed accents
        ("trans\u00adformer", "transformer"),  # soft hyphen
        ("auto\u2010encoder", "auto-encoder"),  # Unicode hyphen joins like ASCII's
    ],
)
def test_fold_ignores_case_and_accents(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_fold_turns_unicode_punctuation_into_separators_and_keeps_other_letters() -> None:
    assert words(fold("the model’s “robust”—ish α-divergence 中文")) == [
        "the", "model", "s", "robust", "ish", "α", "divergence", "中文"]


def test_folding_joined_texts_equals_folding_each_and_the_fast_byte_path_agrees() -> None:
    texts = ["Schölkopf’s “model”", "plain ASCII", "Ωmega – ß", "", "e\u0301", "İstanbul \ud800 lone surrogate"]
    assert fold("\n".join(texts)).split("\n") == [fold(t) for t in texts]
    for text in [*texts, *_random_texts(9, 50)]:
        assert fold_bytes(text) == fold(text).encode()


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [("autoencoders", "autoencoder"), ("studies", "study"), ("processes", "process"), ("approaches", "approach"),
     ("boxes", "box"), ("gpus", "gpu"), ("llms", "llm"), ("loss", "loss"), ("analysis", "analysis"),
     ("corpus", "corpus"), ("gas", "gas"), ("models", "model"), ("model", "model"), ("gpt4s", "gpt4s")],
)
def test_stem_makes_plurals_singular(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_terms_drop_stop_words_and_index_compounds_joined() -> None:
    found = terms("The Auto-Encoders of GPT-4 are state-of-the-art")
    assert "the" not in found and "of" not in found
    assert {"auto", "encoder", "autoencoder", "gpt", "4", "gpt4", "stateoftheart"} <= set(found)
    assert compounds("a--b -lead trail- x-y") == ["xy"]


def _random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    pieces = ["model", "Models", "studies", "GPU", "gpus", "auto-encoders", "state-of-the-art", "Schölkopf", "ß",
              "“quoted”", "—", "α-divergence", "中文", "x_y", "a--b", "-lead", "trail-", "3.5%", "GPT-4o", "ﬁne",
              "the", "of", "ourselves", "themselves", "supercalifragilisticexpialidociousnesses", "countries",
              "e\u0301", "\u00ad", "boxes", "Approaches", "in-to", "don't", "x", "", "  "]
    return ["".join(rng.choice(pieces) + rng.choice([" ", "-", ", ", "", "\t"]) for _ in range(rng.randint(0, 30)))
            for _ in range(count)]


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_tokeniser_agrees_with_the_python_rules(seed: int) -> None:
    for text in _random_texts(seed, 40):
        folded = fold(text)
        tokens = tokenize(folded.encode())

        def kept(w: str) -> bool:  # the tokeniser drops short stop words; long ones the vocabulary marks
            return not (stem(w) in STOP_STEMS and len(w.encode()) <= 8)

        assert tokens.words.keys.tolist() == [term_hash(stem(w)) for w in words(folded) if kept(w)], text
        assert tokens.compounds.keys.tolist() == [term_hash(stem(w)) for w in compounds(folded) if kept(w)], text
        data, lengths = tokens.words.spellings(np.arange(len(tokens.words)))
        assert data.decode() == "".join(stem(w) for w in words(folded) if kept(w))
        assert len(lengths) == len(tokens.words)


def test_batch_folding_keeps_each_document_on_its_own_line() -> None:
    texts = ["Schölkopf’s model", "plain", "has\na line break", ""]
    buf, starts = fold_batch(texts)
    expected = [fold(t.replace("\n", " ")).encode() for t in texts]
    assert buf.rstrip(b"\0").split(b"\n") == expected
    assert [buf[s:s + len(e)] for s, e in zip(starts.tolist(), expected, strict=True)] == expected


def test_term_table_maps_keys_and_grows() -> None:
    table = TermTable(16)
    keys = np.arange(1, 5001, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    table.put(keys, np.arange(5000, dtype=np.int32))
    assert table.get(keys).tolist() == list(range(5000))
    assert table.get(np.array([12345], dtype=np.uint64)).tolist() == [-1]
    table.set(keys[:3], np.array([7, 8, 9], dtype=np.int32))
    assert table.get(keys[:4]).tolist() == [7, 8, 9, 3]
