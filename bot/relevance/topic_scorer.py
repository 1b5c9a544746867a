"""How much a paper is *about* a topic: a calibrated probability from lexical and semantic evidence.

Lexical evidence compares stems (bot/relevance/words.py), so word forms meet, and expands acronyms both
ways (bot/relevance/acronyms.py): per topic concept, is it in the title, how often in the abstract, in
its first sentence, and do the concepts stand together as the topic's phrase. Semantic evidence is the
cosine between the topic's and the paper's sentence vectors, also as a z-score against the archive so
that a topic whose words are everywhere is not favoured. A logistic model over these features, fit on
the development half of the labelled topics (bench/fit_topic_model.py), turns them into the probability
that a judge would call the paper about the topic; strictness levels are thresholds on it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bot.relevance.acronyms import AcronymTable
from bot.relevance.words import StemmedText, content_stems, folded_words

MODEL_FILE = Path(__file__).with_name("topic_model.json")  # {"semantic": fit, "lexical": fit without vectors}

FEATURES = (
    "title_cov",      # share of the topic's concepts in the title
    "text_cov",       # share of concepts in the title or abstract
    "all_present",    # every concept somewhere in title or abstract
    "phrase_title",   # the topic's words (or an acronym form) together in the title
    "phrase_abs",     # log(1 + occurrences of the phrase in the abstract)
    "density",        # log(1 + concept occurrences in title and abstract per concept)
    "lead",           # share of concepts in the abstract's first sentence
    "semantic",       # cosine of topic and paper vectors
    "semantic_z",     # that cosine as a z-score over the archive
    "neighbourhood_z",  # cosine with the centroid of the topic's nearest archive papers, as a z-score
    "has_vector",     # the paper has a vector (semantic features are 0 otherwise)
)


@dataclass(frozen=True)
class Concept:
    """One topic word with its alternatives: its stem, or a long form / acronym it stands for."""

    label: str  # as typed, for "why"
    forms: tuple[tuple[str, ...], ...]  # stem sequences; any one present counts


@dataclass
class PreparedTopic:
    text: str
    concepts: tuple[Concept, ...]
    phrases: tuple[tuple[str, ...], ...]  # the whole topic as stems, and as its acronyms / long forms
    vector: NDArray[np.float32] | None = None
    semantic_mean: float = 0.0
    semantic_std: float = 1.0
    centroid: NDArray[np.float32] | None = None  # unit mean of the archive papers nearest the topic
    centroid_mean: float = 0.0
    centroid_std: float = 1.0
    stems: frozenset[str] = field(default_factory=frozenset)  # every stem any form uses (candidate lookup)


@dataclass(frozen=True)
class TopicScore:
    paper_id: str
    probability: float
    logit: float
    words: tuple[str, ...]  # the topic's words found in the title or abstract
    semantic: float  # cosine, 0 when either side has no vector


@dataclass(frozen=True)
class TopicModel:
    weights: tuple[float, ...]
    bias: float

    @classmethod
    def load(cls, path: Path = MODEL_FILE, kind: str = "semantic") -> TopicModel:
        data = json.loads(path.read_text(encoding="utf-8"))[kind]
        if list(data["features"]) != list(FEATURES):
            raise ValueError(f"{path.name} was fit for features {data['features']}, not {list(FEATURES)}")
        return cls(tuple(float(w) for w in data["weights"]), float(data["bias"]))

    def logits(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(features @ np.asarray(self.weights) + self.bias, dtype=np.float64)


def prepare(topic_words: Sequence[str], acronyms: AcronymTable, text: str | None = None,
            family: Callable[[str], Sequence[str]] | None = None) -> PreparedTopic:
    """A topic's concepts from its plain words (as the query parser gives them: folded, stop words kept)."""
    text = text if text is not None else " ".join(topic_words)
    words = [w for w in topic_words if content_stems(w)]
    stems = tuple(s for w in words for s in content_stems(w))
    concepts: list[Concept] = []
    for word in words:
        word_stems = tuple(content_stems(word))
        forms: list[tuple[str, ...]] = [word_stems]
        if "-" in word:  # "auto-encoder" is also written "autoencoder"
            forms.append(tuple(content_stems(word.replace("-", ""))))
        for raw in _raw_forms(word, text):
            forms.extend(f for f in acronyms.expansions(raw) if f not in forms)
        concepts.append(Concept(word, tuple(forms)))
    phrases: list[tuple[str, ...]] = [stems] if stems else []
    if any("-" in w for w in words):  # the phrase as written with its compounds closed up
        closed = tuple(s for w in words for s in content_stems(w.replace("-", "")))
        if closed and closed != stems:
            phrases.append(closed)
    for key in acronyms.acronyms_of(stems) if len(stems) > 1 else ():
        phrases.append((key,))
        # The acronym stands for every concept at once.
        concepts = [Concept(c.label, (*c.forms, (key,))) for c in concepts]
    # A multi-word topic that is itself an acronym's short form ("mech interp") also gets the long form.
    joined = " ".join(words)
    for form in acronyms.expansions(joined) if len(words) > 1 else ():
        phrases.append(form)
        concepts = [Concept(c.label, (*c.forms, form)) for c in concepts]
    if family is not None:  # other words of the same family ("superconductivity": "superconductor")
        concepts = [Concept(c.label, (*c.forms, *((v,) for v in family(f[0]) if (v,) not in c.forms)))
                    if len(f := c.forms[0]) == 1 else c for c in concepts]
    all_stems = frozenset(s for c in concepts for f in c.forms for s in f) | frozenset(
        s for p in phrases for s in p)
    return PreparedTopic(text, tuple(concepts), tuple(dict.fromkeys(phrases)), stems=all_stems)


def _raw_forms(word: str, text: str) -> list[str]:
    """The word as typed in `text` (case kept, so 'GNNs' reads as an acronym), and folded."""
    for token in text.split():
        if token.lower().strip('"') == word:
            return [token.strip('"'), word]
    return [word]


def _has(text: StemmedText, part: str, present: frozenset[str], form: tuple[str, ...]) -> bool:
    if len(form) == 1:
        return form[0] in present
    return all(s in present for s in form) and text.phrase_in(part, form) > 0


def features(topic: PreparedTopic, text: StemmedText, semantic: float | None,
             neighbourhood: float | None = None) -> tuple[list[float], list[str]]:
    """The feature row of one paper, and the topic words it contains."""
    title, whole, lead = text.title_set, text.whole_set, text.lead_set
    n = max(1, len(topic.concepts))
    in_title = in_text = in_lead = 0
    occurrences = 0
    found: list[str] = []
    for concept in topic.concepts:
        t = any(_has(text, "title", title, f) for f in concept.forms)
        a = t or any(_has(text, "abstract", whole, f) for f in concept.forms)
        in_title += t
        in_text += a
        in_lead += any(_has(text, "lead", lead, f) for f in concept.forms)
        if a:
            found.append(concept.label)
            occurrences += sum(_count(text, f) for f in concept.forms)
    phrase_title = any(text.phrase_in("title", p) for p in topic.phrases)
    phrase_abs = sum(text.phrase_in("abstract", p) for p in topic.phrases) if n > 1 or len(topic.phrases) > 1 else 0
    sem = semantic if semantic is not None else 0.0
    z = (sem - topic.semantic_mean) / topic.semantic_std if semantic is not None else 0.0
    nz = (neighbourhood - topic.centroid_mean) / topic.centroid_std if neighbourhood is not None else 0.0
    row = [
        in_title / n,
        in_text / n,
        float(in_text == len(topic.concepts)) if topic.concepts else 0.0,
        float(phrase_title),
        math.log1p(phrase_abs),
        math.log1p(occurrences / n),
        in_lead / n,
        sem,
        z,
        nz,
        float(semantic is not None),
    ]
    return row, found


def _count(text: StemmedText, form: tuple[str, ...]) -> int:
    """Occurrences of a form in the title and abstract."""
    if len(form) == 1:
        return text.counts[form[0]]
    return text.phrase_in("title", form) + text.phrase_in("abstract", form)


def topic_words_of(text: str) -> list[str]:
    """Plain words of a topic string (no query syntax), folded."""
    return folded_words(text)
