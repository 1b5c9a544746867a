"""A channel's topic against papers, as digests and `/papers topics try` see it: bot/relevance/matcher.py
TopicMatcher over a real SearchIndex (filters, exclusions and quoted phrases are hard conditions) and the
relevance engine (how much each allowed paper is about the topic's words, and with the model their meaning).

Thresholds are the channel strictness levels (bot/digest/strictness.py), so "matches" means what a channel at
normal strictness would be posted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from embedding_model import encoder_or_skip

from bot.digest.strictness import STRICTNESS
from bot.papers import PaperRecord, new_record
from bot.relevance.encoder import TextEncoder
from bot.relevance.engine import PAPER_TOKENS, Relevance
from bot.relevance.matcher import SEMANTIC_WHY, TopicMatch, TopicMatcher
from bot.relevance.vectors import PaperVectors
from bot.search import SearchIndex

NORMAL, STRICT = STRICTNESS["normal"], STRICTNESS["strict"]
FILLER = ("We evaluate on the standard benchmarks and report ablations over the learning rate, the batch size and "
          "the optimiser, with every number averaged over five seeds and confidence intervals from a bootstrap. ")


def paper(pid: str, title: str, abstract: str, authors: Sequence[str] = ("Ada Lovelace",)) -> PaperRecord:
    return new_record(pid, source="arxiv", title=title, abstract=abstract, authors=list(authors),
                      published="2025-03-03T00:00:00Z")


PAPERS = [
    paper("2503.00001", "Message passing graph neural networks for molecular property prediction",
          "Graph neural networks learn from molecules represented as graphs. We propose a message passing scheme "
          "whose graph neural networks predict binding energies.", ["Alan Turing"]),
    paper("2503.00002", "A GNN for traffic forecasting on road networks",
          "Our GNN predicts traffic on road networks from sensor readings; the GNN uses attention over roads.",
          ["Grace Hopper"]),
    paper("2503.00003", "Mechanistic interpretability of transformer circuits",
          "Mechanistic interpretability reverse-engineers neural networks into circuits. We find the circuits "
          "that implement induction in small transformers.", ["Chris Olah"]),
    paper("2503.00004", "Benchmarking optimisers for image classification",
          FILLER * 5 + "Future work could apply mechanistic interpretability to the trained models.",
          ["Edsger Dijkstra"]),
    paper("2503.00005", "Diffusion models for audio generation",
          "We train diffusion models on raw audio waveforms and generate music and speech.", ["Grace Hopper"]),
    paper("2503.00006", "Latent diffusion models for image synthesis",
          "Diffusion models in a learned latent space synthesise high-resolution images quickly.", ["Alan Turing"]),
    paper("2503.00007", "Neural networks on a graph of sensors",
          "We place small neural networks on every node of a graph of sensors and let them exchange messages.",
          ["Barbara Liskov"]),
    paper("2503.00008", "Monetary policy and inflation expectations",
          "Central bank decisions shift household inflation expectations in small open economies.",
          ["Grace Hopper"]),
    paper("2503.00009", "Sparse autoencoders find interpretable features",
          "We train sparse autoencoders on the residual stream of a language model and find monosemantic features.",
          ["Chris Olah"]),
]


def matcher_over(records: Sequence[PaperRecord], relevance: Relevance | None = None) -> TopicMatcher:
    relevance = relevance or Relevance(encoder=None, vectors=None)
    relevance.learn(records)
    return TopicMatcher(SearchIndex.build(records, workers=1), relevance)


@pytest.fixture(scope="module")
def lexical() -> TopicMatcher:
    return matcher_over(PAPERS)


def scores(matcher: TopicMatcher, topic: str, records: Sequence[PaperRecord] = PAPERS) -> dict[str, TopicMatch]:
    return matcher.match(topic, {r["id"]: r for r in records}, floor=0.0)


def posted(matcher: TopicMatcher, topic: str, minimum: float = NORMAL) -> set[str]:
    return {pid for pid, m in scores(matcher, topic).items() if m.probability >= minimum}


# --- acronyms and short forms ---------------------------------------------------------------------------------

def test_gnn_matches_a_paper_that_only_writes_graph_neural_networks_and_vice_versa(lexical: TopicMatcher) -> None:
    assert {"2503.00001", "2503.00002"} <= posted(lexical, "GNN")
    assert {"2503.00001", "2503.00002"} <= posted(lexical, "graph neural networks")
    assert posted(lexical, "GNN").isdisjoint({"2503.00005", "2503.00008", "2503.00009"})


@pytest.mark.parametrize("topic", ["GNN", "graph neural networks", "LLM"])
def test_an_acronym_written_in_the_plural_matches_the_singular_topic_and_the_long_form(topic: str) -> None:
    """Regression: Snowball drops a plural s only after a vowel, so 'GNNs'/'LLMs' did not meet 'gnn'/'llm'."""
    records = [
        paper("2503.00101", "Scaling GNNs to billion-edge graphs",
              "We train GNNs on graphs with a billion edges using neighbour sampling; our GNNs converge fast."),
        paper("2503.00102", "Evaluating LLMs on chemistry exams",
              "We test LLMs on chemistry questions. LLMs fail at stoichiometry."),
        *PAPERS[4:],
    ]
    wanted = "2503.00102" if topic == "LLM" else "2503.00101"
    assert scores(matcher_over(records), topic, records)[wanted].probability >= NORMAL


def test_mech_interp_matches_mechanistic_interpretability(lexical: TopicMatcher) -> None:
    """Regression: a multi-word short form's long form was only a phrase, not a form of the topic's concepts."""
    assert "2503.00003" in posted(lexical, "mech interp")


# --- hard conditions --------------------------------------------------------------------------------------------

def test_an_excluded_word_removes_a_paper_however_well_it_matches(lexical: TopicMatcher) -> None:
    assert {"2503.00005", "2503.00006"} <= posted(lexical, "diffusion models")
    found = scores(lexical, "diffusion models -audio")
    assert "2503.00005" not in found
    assert found["2503.00006"].probability >= NORMAL
    assert "2503.00005" not in scores(lexical, 'diffusion models -"raw audio"')


def test_an_author_filter_keeps_only_that_authors_papers(lexical: TopicMatcher) -> None:
    found = scores(lexical, "graph neural networks author:turing")
    assert set(found) <= {"2503.00001", "2503.00006"}, "Grace Hopper's GNN paper is not Turing's"
    assert found["2503.00001"].probability >= NORMAL
    assert scores(lexical, "graph neural networks author:nobody") == {}


def test_a_quoted_phrase_must_stand_in_the_paper(lexical: TopicMatcher) -> None:
    loose = scores(lexical, "graph neural")
    assert "2503.00007" in loose, "without quotes the words may stand apart"
    quoted = scores(lexical, '"graph neural"')
    assert "2503.00001" in quoted and quoted["2503.00001"].probability >= NORMAL
    assert "2503.00007" not in quoted, "'neural networks on a graph' does not say 'graph neural'"
    assert "2503.00002" not in quoted, "the phrase is not expanded into an acronym the paper uses instead"


def test_a_topic_of_filters_only_matches_every_paper_that_passes_for_certain(lexical: TopicMatcher) -> None:
    found = scores(lexical, "author:hopper")
    assert set(found) == {"2503.00002", "2503.00005", "2503.00008"}
    assert all(m.probability == 1.0 for m in found.values())
    assert set(scores(lexical, "author:hopper -diffusion")) == {"2503.00002", "2503.00008"}


# --- strength of evidence --------------------------------------------------------------------------------------

def test_a_passing_mention_at_the_end_of_a_long_abstract_scores_below_the_title(lexical: TopicMatcher) -> None:
    found = scores(lexical, "mechanistic interpretability")
    about, aside = found["2503.00003"].probability, found["2503.00004"].probability
    assert about >= STRICT
    assert aside < about / 2
    assert aside < STRICT, "a strict channel does not get the paper that only mentions it"


def test_the_why_lists_the_topic_words_the_paper_has(lexical: TopicMatcher) -> None:
    found = scores(lexical, "sparse autoencoders steering")
    match = found["2503.00009"]
    assert match.words == ("sparse", "autoencoders")
    assert match.why("sparse autoencoders steering") == "“sparse autoencoders steering”: sparse, autoencoders"
    assert scores(lexical, "GNN")["2503.00001"].why("GNN") == "“GNN”: gnn", "the word as the topic has it"


# --- meaning (with the embedding model) ----------------------------------------------------------------------

PARAPHRASED = [
    paper("2503.00201", "Predicting the three-dimensional shape of polypeptide chains from their amino-acid "
          "sequence", "We train a deep network that maps an amino-acid sequence to the spatial conformation the chain "
          "adopts, reaching near-experimental accuracy on held-out targets."),
    paper("2503.00202", "Teaching robots to grasp unfamiliar objects from few demonstrations",
          "A robot arm learns to pick up new household items after watching a handful of human demonstrations."),
    paper("2503.00203", "Crop yield forecasting from satellite imagery",
          "Multispectral satellite images and weather records forecast wheat yields at county level."),
    paper("2503.00204", "Monetary policy and inflation expectations in small open economies",
          "We estimate how central bank rate decisions shift household inflation expectations using survey data."),
    paper("2503.00205", "A sharp bound on the chromatic number of triangle-free graphs",
          "Every triangle-free graph with maximum degree d can be properly coloured with few colours."),
]


CORPUS_VECTORS = Path(__file__).with_name("corpus") / "vectors.bin"


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return encoder_or_skip(PAPER_TOKENS)


@pytest.fixture(scope="module")
def semantic(encoder: TextEncoder) -> TopicMatcher:
    """The model, over an archive like a running bot's: the 3,397 real arXiv papers' stored vectors
    (tests/relevance/corpus, read-only) are the background a topic's similarity is compared with."""
    vectors = PaperVectors(encoder.dimensions, encoder.name, CORPUS_VECTORS, read_only=True)
    assert len(vectors) == 3397
    relevance = Relevance(encoder=encoder, vectors=vectors)
    records = [*PAPERS, *PARAPHRASED]
    assert relevance.embed_missing(records) == len(records)
    return matcher_over(records, relevance)


@pytest.mark.parametrize(("topic", "target"), [
    ("protein folding", "2503.00201"),
    ("dexterous manipulation", "2503.00202"),
])
def test_a_paper_that_says_the_topic_in_other_words_beats_unrelated_ones(
        semantic: TopicMatcher, topic: str, target: str) -> None:
    found = scores(semantic, topic, [*PAPERS, *PARAPHRASED])
    assert found[target].words == (), "no topic word in the paper: only meaning can find it"
    assert found[target].semantic > 0.3
    others = [m for pid, m in found.items() if pid != target]
    assert found[target].probability > max(m.probability for m in others)
    assert found[target].semantic > max(m.semantic for m in others) + 0.15


def test_with_the_model_the_words_still_count(semantic: TopicMatcher) -> None:
    found = scores(semantic, "mechanistic interpretability", [*PAPERS, *PARAPHRASED])
    assert found["2503.00003"].probability >= STRICT
    assert found["2503.00004"].probability < NORMAL, "the passing mention still is not enough"
    assert found["2503.00003"].semantic > found["2503.00008"].semantic
    gnn = scores(semantic, "graph neural networks", [*PAPERS, *PARAPHRASED])["2503.00001"]
    assert gnn.semantic >= SEMANTIC_WHY
    assert gnn.why("graph neural networks") == "“graph neural networks”: graph, neural, networks; close in meaning"


def test_a_small_archive_with_the_model_still_matches_on_words(encoder: TextEncoder) -> None:
    """Regression: with a handful of vectors the semantic fit ran without its z-score baseline (0.95 -> 0.06)."""
    relevance = Relevance(encoder=encoder, vectors=PaperVectors(encoder.dimensions, encoder.name))
    records = [*PAPERS, *PARAPHRASED]
    relevance.embed_missing(records)
    found = scores(matcher_over(records, relevance), "mechanistic interpretability", records)
    assert found["2503.00003"].probability >= STRICT


def test_a_topic_tried_before_the_vectors_exist_gets_its_meaning_once_they_do(encoder: TextEncoder) -> None:
    relevance = Relevance(encoder=encoder, vectors=PaperVectors(encoder.dimensions, encoder.name))
    records = [*PAPERS, *PARAPHRASED]
    matcher = matcher_over(records, relevance)
    assert scores(matcher, "protein folding", records)["2503.00201"].semantic == 0.0, "no vectors yet: words only"
    # The keeper computes the papers' vectors; the archive has a few hundred more (real papers' stored vectors).
    relevance.embed_missing(records)
    background = PaperVectors(encoder.dimensions, encoder.name, CORPUS_VECTORS, read_only=True)
    assert relevance.vectors is not None
    ids = [pid for pid, _ in background.nearest(background.sample(1)[0], 300)]
    relevance.vectors.add(ids, background.get(ids)[0])
    assert scores(matcher, "protein folding", records)["2503.00201"].semantic > 0.3
