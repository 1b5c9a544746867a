"""Word forms and acronyms as a watching channel meets them (bot/relevance/words.py, acronyms.py): a topic
matches the papers that write its words in another form, and acronyms are learned from the archive's own
definitions without learning junk from coincidences or notation.

Word forms are checked through the digest's TopicMatcher (what a user sees) rather than as raw stems."""

from __future__ import annotations

import pytest

from bot.digest.strictness import STRICTNESS
from bot.papers import PaperRecord, new_record
from bot.relevance.acronyms import AcronymTable, long_form
from bot.relevance.engine import Relevance
from bot.relevance.matcher import TopicMatcher
from bot.relevance.words import content_stems, folded_words
from bot.search import SearchIndex

NORMAL = STRICTNESS["normal"]


def paper(number: int, title: str, abstract: str) -> PaperRecord:
    return new_record(f"2506.{number:05d}", source="arxiv", title=title, abstract=abstract,
                      authors=["Ada Lovelace"], published="2025-06-02T00:00:00Z")


# Papers about one subject each, written the way papers write; fillers make the archive less tiny.
PAPERS = [
    paper(1, "Superconducting qubits with millisecond coherence",
          "We fabricate superconducting transmon qubits on sapphire and measure coherence times above one "
          "millisecond. Superconducting resonators read the qubits out."),
    paper(2, "Pressure-tuned superconductors with high critical temperature",
          "We study hydride superconductors under pressure. The superconductors reach a critical temperature "
          "of 250 K."),
    paper(3, "Explainable models for radiology",
          "We make deep image classifiers explainable for radiologists with saliency maps that experts trust."),
    paper(4, "Measuring the explainability of language model answers",
          "Explainability is hard to measure: we propose a benchmark that scores explanations by faithfulness."),
    paper(5, "Variational autoencoders for molecular design",
          "Autoencoders map molecules to a smooth latent space in which we optimise binding affinity."),
    paper(6, "Denoising auto-encoders for speech",
          "Auto-encoders trained on noisy recordings remove background noise from speech."),
    paper(7, "A survey of crop yield forecasting",
          "Satellite imagery and weather records predict wheat yields at county level."),
    paper(8, "Monetary policy and inflation expectations",
          "Central bank decisions shift household inflation expectations in small open economies."),
]


def matches(topic: str, records: list[PaperRecord] = PAPERS) -> dict[str, float]:
    """Each paper's probability of being about `topic`, as a digest's matcher gives it (words only)."""
    relevance = Relevance(encoder=None, vectors=None)
    relevance.learn(records)
    matcher = TopicMatcher(SearchIndex.build(records, workers=1), relevance)
    return {pid: m.probability for pid, m in matcher.match(topic, {r["id"]: r for r in records}, floor=0.0).items()}


def matched(topic: str) -> set[str]:
    """Papers a channel at normal strictness would get for `topic`."""
    return {pid for pid, p in matches(topic).items() if p >= NORMAL}


# --- word forms --------------------------------------------------------------------------------------------

def test_superconductivity_matches_papers_that_say_superconducting() -> None:
    assert "2506.00001" in matched("superconductivity")
    assert "2506.00001" in matched("superconducting")


def test_superconductivity_matches_papers_about_superconductors() -> None:
    """Regression: Snowball stems differ ('superconduct' / 'superconductor'): the archive's word families join them."""
    assert "2506.00002" in matched("superconductivity")


def test_explainability_and_explainable_match_each_other() -> None:
    assert {"2506.00003", "2506.00004"} <= matched("explainability")
    assert {"2506.00003", "2506.00004"} <= matched("explainable")
    assert matched("explainability").isdisjoint({"2506.00001", "2506.00007", "2506.00008"})


def test_auto_encoder_with_or_without_the_hyphen_and_in_the_plural() -> None:
    for topic in ("auto-encoder", "autoencoders", "autoencoder", "auto-encoders"):
        assert {"2506.00005", "2506.00006"} <= matched(topic), topic


def test_a_latex_accent_is_the_accented_letter() -> None:
    """Regression: 'Schr\\"odinger' used to split into 'schr' + 'odinger'."""
    assert folded_words('nonlinear Schr\\"odinger equation') == folded_words("nonlinear Schrödinger equation")
    latex = [*PAPERS, paper(9, 'Solitons of the nonlinear Schr\\"odinger equation',
                            'We prove stability of solitons of the nonlinear Schr\\"odinger equation in $H^1$.')]
    for topic in ("Schrodinger equation", "Schrödinger equation"):
        assert matches(topic, latex)["2506.00009"] >= NORMAL, topic


def test_latex_notation_is_not_words() -> None:
    assert content_stems("the $L^2$ norm of \\nabla u is \\emph{bounded}") == ["norm", "u", "bound"]


# --- acronyms -------------------------------------------------------------------------------------------------

def test_an_acronym_definition_is_learned_both_ways() -> None:
    table = AcronymTable()
    assert table.expansions("MPNN") == ()
    assert table.learn(["We introduce message passing neural networks (MPNNs) for molecules."]) == 1
    long = tuple(content_stems("message passing neural networks"))
    for typed in ("MPNN", "MPNNs", "mpnn", "mpnns"):
        assert table.expansions(typed) == (long,), typed
    assert table.acronyms_of(long) == ("mpnn",)
    assert table.acronyms_of(tuple(content_stems("message passing neural network"))) == ("mpnn",), "singular too"


def test_graph_neural_networks_gnns_is_known_from_the_start_and_learned_again() -> None:
    table = AcronymTable()
    long = tuple(content_stems("graph neural networks"))
    assert table.expansions("GNN") == (long,), "a common abbreviation before anything is learned"
    table.learn(["Graph neural networks (GNNs) learn on graphs."] * 3)
    assert table.expansions("GNNs") == (long,)
    assert table.acronyms_of(long) == ("gnn",)


def test_an_acronym_with_two_meanings_keeps_each_used_by_a_fifth_of_its_definitions() -> None:
    current, convex = tuple(content_stems("direct current")), tuple(content_stems("difference of convex"))
    both = AcronymTable()
    both.learn(["a direct current (DC) motor"] * 3 + ["difference of convex (DC) programming"])  # 75 % / 25 %
    assert set(both.expansions("DC")) == {current, convex}
    assert both.acronyms_of(convex) == ("dc",)
    rare = AcronymTable()
    rare.learn(["a direct current (DC) motor"] * 9 + ["difference of convex (DC) programming"])  # 90 % / 10 %
    assert rare.expansions("DC") == (current,)
    assert rare.acronyms_of(convex) == ()


@pytest.mark.parametrize("text", [
    "We use support vector machines (GNN) here.",  # the letters are not those of the words before
    "We propose a new method (GNN).",
    "This is the ensemble (ENS) of ideas.",  # one word "spelling" the letters: coincidence
    "Results (TABLE 2) are shown.",
])
def test_a_parenthesis_whose_letters_do_not_match_the_words_before_it_teaches_nothing(text: str) -> None:
    table = AcronymTable()
    before = {key: table.expansions(key) for key in ("GNN", "ENS", "TABLE")}
    assert table.learn([text]) == 0
    assert {key: table.expansions(key) for key in before} == before


def test_schwartz_hearst_finds_the_shortest_long_form() -> None:
    assert long_form("GNNs", "In this paper we train graph neural networks") == "graph neural networks"
    assert long_form("MCMC", "we sample with Markov chain Monte Carlo") == "markov chain monte carlo"
    assert long_form("PINNs", "we train physics-informed neural networks") == "physics-informed neural networks"
    assert long_form("GNN", "support vector machines") is None


@pytest.mark.parametrize("text", [
    "The algorithm runs in $\\mathcal{O}(n)$ (ON) time.",
    "The algorithm runs in $\\mathcal{O}(n)$ (ON).",
    "We bound the norm $\\|u\\|_{L^2}$ (LT) by the energy.",
    "the solution map $u \\mapsto \\Phi(u)$ (PU) is smooth",
])
def test_latex_before_a_parenthesis_teaches_no_acronym(text: str) -> None:
    table = AcronymTable()
    table.learn([text])
    assert [k for k in ("ON", "LT", "PU") if table.expansions(k)] == []


def test_maths_next_to_one_word_does_not_define_an_acronym() -> None:
    """Regression: the maths counted as a word, so OU was learned as ('uniform',)."""
    table = AcronymTable()
    table.learn(["The Ornstein-Uhlenbeck (OU) process is mean-reverting."] * 3
                + ["The estimator attains the rate $\\mathcal{O}(n^{-1/2})$ uniformly (OU) in the class."])
    assert table.expansions("OU") == (tuple(content_stems("Ornstein-Uhlenbeck")),)


DASHED = [
    ("the Hamilton–Jacobi–Bellman (HJB) equation", "HJB", "Hamilton-Jacobi-Bellman"),
    ("an Ornstein–Uhlenbeck (OU) process", "OU", "Ornstein-Uhlenbeck"),
]


@pytest.mark.parametrize(("text", "acronym", "long"), DASHED)
def test_a_hyphenated_compound_defines_its_acronym(text: str, acronym: str, long: str) -> None:
    table = AcronymTable()
    table.learn([text.replace("–", "-")])
    assert table.expansions(acronym) == (tuple(content_stems(long)),)


@pytest.mark.parametrize(("text", "acronym", "long"), DASHED)
def test_an_en_dash_compound_defines_its_acronym_like_a_hyphenated_one(text: str, acronym: str, long: str) -> None:
    """Regression: only an ASCII hyphen made a one-token long form acceptable."""
    table = AcronymTable()
    table.learn([text])
    assert table.expansions(acronym) == (tuple(content_stems(long)),)
