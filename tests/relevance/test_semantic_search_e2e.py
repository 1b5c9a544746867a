"""`/papers search` finds a paper by what it means, end to end: signed Slack requests over real HTTP -> waitress
-> Bolt -> the search index with the relevance engine's paper vectors (PAPERBOT_EMBEDDINGS=auto) -> the reply
the user sees at the response URL (the Slack emulator). The same query with embeddings off (the bot without
the model) does not find the paper, because not one of its words is the paper's."""

from __future__ import annotations

from typing import Any

import pytest
from embedding_model import needs_model
from slack_driver import SlackStack

from bot.papers import PaperRecord, new_record
from bot.relevance.words import content_stems

pytestmark = [
    pytest.mark.e2e,
    needs_model,
]

WAIT = 60.0


def paper(pid: str, title: str, abstract: str) -> PaperRecord:
    return new_record(pid, source="arxiv", title=title, abstract=abstract, authors=["Ada Lovelace", "Alan Turing"],
                      published="2024-05-16T00:00:00Z", categories=["cs.LG"])


PAPERS = [
    paper("2405.11001", "Teaching robots to grasp unfamiliar objects from few demonstrations",
          "A robot arm learns to pick up new household items after watching a handful of human demonstrations. "
          "We combine a pretrained visual encoder with a small policy head and reach 80% success on objects never "
          "seen in training."),
    paper("2405.11002", "Scaling diffusion transformers for minute-long video generation",
          "We scale diffusion transformers to minute-long videos with a sparse spatio-temporal attention and a "
          "curriculum over clip length."),
    paper("2405.11003", "Sparse autoencoders find interpretable features in language models",
          "We train sparse autoencoders on the residual stream of a language model and find thousands of "
          "monosemantic features."),
    paper("2405.11004", "Predicting the three-dimensional shape of polypeptide chains from their amino-acid sequence",
          "We train a deep network that maps an amino-acid sequence to the spatial conformation the chain adopts, "
          "reaching near-experimental accuracy on held-out targets."),
    paper("2405.11005", "Monetary policy and inflation expectations in small open economies",
          "We estimate how central bank rate decisions shift household inflation expectations using survey data "
          "from twelve countries."),
    paper("2405.11006", "Crop yield forecasting from satellite imagery",
          "Multispectral satellite images and weather records forecast wheat yields at county level across three "
          "continents."),
    paper("2405.11007", "Retrieval-augmented generation for open-domain question answering",
          "A retriever selects passages from Wikipedia and a reader model answers questions from them, improving "
          "exact match on Natural Questions."),
    paper("2405.11008", "Quantum error correction with surface codes on superconducting qubits",
          "We demonstrate a distance-5 surface code whose logical error rate falls below that of its physical "
          "qubits."),
]

# (what a researcher types, the paper it describes): not one word of the query is in that paper's title or
# abstract (checked below), so only meaning can connect them.
PARAPHRASES = [
    ("protein folding", "2405.11004"),
    ("dictionary learning on neural activations", "2405.11003"),
]


def paper_ids(message: dict[str, Any]) -> list[str]:
    return [b["block_id"].split(":", 1)[1] for b in message.get("blocks", [])
            if b.get("block_id", "").startswith("paper:")]


def test_the_paraphrases_share_no_word_with_their_paper() -> None:
    by_id = {p["id"]: p for p in PAPERS}
    for query, target in PARAPHRASES:
        record = by_id[target]
        words = set(content_stems(f"{record['title']} {record.get('abstract') or ''}"))
        assert not set(content_stems(query)) & words, query


def test_search_finds_a_paper_described_in_other_words(slack_stack_factory: Any) -> None:
    stack: SlackStack = slack_stack_factory(PAPERS, env={"PAPERBOT_EMBEDDINGS": "auto"})
    assert stack.services.relevance.semantic
    assert stack.services.keeper.wait_idle(WAIT), "the papers' vectors were computed in the background"
    for query, target in PARAPHRASES:
        found = paper_ids(stack.driver.ask(f"search {query}"))
        assert found[:1] == [target], (query, found)
    # Meaning is added to the words: a query that names a paper still ranks that paper first.
    for query, target in [("surface codes superconducting qubits", "2405.11008"),
                          ("retrieval augmented generation", "2405.11007"),
                          ("monetary policy inflation", "2405.11005")]:
        assert paper_ids(stack.driver.ask(query))[:1] == [target], query


def test_without_embeddings_the_same_queries_do_not_find_it(slack_stack_factory: Any) -> None:
    stack: SlackStack = slack_stack_factory(PAPERS)  # the test default: PAPERBOT_EMBEDDINGS=off
    assert not stack.services.relevance.semantic
    for query, target in PARAPHRASES:
        assert target not in paper_ids(stack.driver.ask(f"search {query}")), query
