"""Search behaviour a user notices, on small hand-built archives: ranking, typos, filters, paging, updates."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from bot.papers import new_record
from bot.search import QueryError, SearchContext, SearchIndex
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.files import Store

_counter = iter(range(10_000, 99_999))


def paper(title: str, abstract: str = "", *, authors: list[str] | None = None, published: str = "2023-05-01",
          paper_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return new_record(paper_id or f"2301.{next(_counter)}", source="arxiv", title=title, abstract=abstract,
                      authors=authors or ["Ada Lovelace"], published=f"{published}T12:00:00Z", **extra)


def filler(count: int) -> list[dict[str, Any]]:
    """Unrelated papers with abstracts of a realistic length (BM25 compares lengths with the average)."""
    return [paper(f"Unrelated filler number {i}", "We evaluate a method on standard benchmarks and report results "
                  f"on several datasets, with ablations of each component and analysis of errors {i}.")
            for i in range(count)]


FILLER = [
    paper("Graph neural networks for molecules", "We study message passing on molecular graphs."),
    paper("Speech recognition with streaming transducers", "Word error rate drops with streaming decoding."),
    paper("Federated learning under client drift", "Clients with non-IID data drift apart during training."),
    paper("A survey of reinforcement learning", "Policies, rewards and exploration in many environments."),
]


def ids(index: SearchIndex, query: str, **kwargs: Any) -> list[str]:
    return [h.paper["id"] for h in index.search(query, **kwargs).hits]


def test_a_title_hit_outranks_an_abstract_hit() -> None:
    in_title = paper("Sparse autoencoders for vision models", "We train dictionaries on activations.")
    in_abstract = paper("Dictionary methods revisited",
                        "Sparse autoencoders recover features; sparse autoencoders are cheap to train on activations.")
    index = SearchIndex.build([in_abstract, in_title, *FILLER])
    assert ids(index, "sparse autoencoders")[:2] == [in_title["id"], in_abstract["id"]]


def test_all_words_outrank_some_words() -> None:
    some = paper("Sparse autoencoders at scale", "Sparse autoencoders find interpretable features in activations.")
    every = paper("Feature directions in language models",
                  "We use sparse autoencoders to find features, then use them for steering generations.")
    index = SearchIndex.build([some, every, *FILLER])
    assert ids(index, "sparse autoencoders steering")[0] == every["id"]


@pytest.mark.parametrize("query", ["chinchila", "Chinchilla", "CHINCHILLA", "chinchillas"])
def test_typos_case_and_plurals_find_the_paper(query: str) -> None:
    target = paper("Chinchilla: compute-optimal training", "We train Chinchilla on more tokens.")
    index = SearchIndex.build([target, *FILLER])
    page = index.search(query)
    assert page.hits[0].paper["id"] == target["id"]
    if query == "chinchila":
        assert page.notes == ["searched for chinchilla instead of chinchila"]


@pytest.mark.parametrize("query", ["Schölkopf", "scholkopf", "SCHOLKOPF", "schoelkopf", "author:scholkopf"])
def test_accented_names_match_either_way(query: str) -> None:
    target = paper("Causal representation learning", "Causal variables from observations.",
                   authors=["Bernhard Schölkopf", "Yoshua Bengio"])
    index = SearchIndex.build([target, *FILLER])
    assert ids(index, query) == [target["id"]]


@pytest.mark.parametrize("query", ["autoencoder", "auto-encoder", "auto-encoders", "autoencoders"])
def test_hyphenated_and_closed_compounds_match_each_other(query: str) -> None:
    hyphenated = paper("Variational auto-encoders", "A latent variable model.")
    closed = paper("Denoising autoencoders", "Corrupt the input, reconstruct it.")
    index = SearchIndex.build([hyphenated, closed, *FILLER])
    assert set(ids(index, query)) == {hyphenated["id"], closed["id"]}


def test_excluded_words_and_phrases_remove_papers() -> None:
    gan = paper("Diffusion versus GAN image synthesis", "Diffusion models beat GANs.")
    style = paper("Diffusion for style transfer", "Style transfer with diffusion guidance.")
    plain = paper("Denoising diffusion", "Diffusion models for audio.")
    index = SearchIndex.build([gan, style, plain, *FILLER])
    assert set(ids(index, "diffusion")) == {gan["id"], style["id"], plain["id"]}
    assert set(ids(index, "diffusion -gan")) == {style["id"], plain["id"]}
    assert ids(index, 'diffusion -gan -"style transfer"') == [plain["id"]]


def test_a_quoted_phrase_needs_the_words_together_and_in_order() -> None:
    together = paper("Notes", "We study attention heads in transformers.")
    apart = paper("Other notes", "Heads of state pay attention to transformers.")
    index = SearchIndex.build([together, apart, *FILLER])
    assert set(ids(index, "attention heads")) == {together["id"], apart["id"]}
    assert ids(index, '"attention heads"') == [together["id"]]


def test_date_code_author_and_category_filters() -> None:
    old = paper("Scaling laws for transformers", "Power laws.", published="2020-01-23", authors=["Jared Kaplan"],
                categories=["cs.LG"])
    new = paper("Scaling laws revisited", "Power laws again.", published="2024-06-01", authors=["Tamay Besiroglu"],
                categories=["cs.CL"], links={"github": "https://github.com/x/y"})
    index = SearchIndex.build([old, new, *FILLER])
    assert set(ids(index, "scaling laws")) == {old["id"], new["id"]}
    assert ids(index, "scaling laws since:2024") == [new["id"]]
    assert ids(index, "scaling laws until:2023-12") == [old["id"]]
    assert ids(index, "scaling laws year:2020") == [old["id"]]
    assert ids(index, "scaling laws year:2019..2021") == [old["id"]]
    assert ids(index, "scaling laws has:code") == [new["id"]]
    assert ids(index, "scaling laws -has:code") == [old["id"]]
    assert ids(index, "scaling author:kaplan") == [old["id"]]
    assert ids(index, "scaling -author:kaplan") == [new["id"]]
    assert ids(index, "laws cat:cs.CL") == [new["id"]]
    # Filters alone list the matching papers, newest first.
    assert ids(index, "since:2019 author:kaplan") == [old["id"]]
    assert ids(index, "cat:cs.lg") == [old["id"]]


def test_saved_and_channel_filters_use_the_context_hooks() -> None:
    a, b, c = (paper(f"Paper about topic {x}", "Shared words here.") for x in "abc")
    index = SearchIndex.build([a, b, c, *FILLER])
    saves = {"U1": {a["id"], b["id"]}}
    posted = {"C9": {b["id"]}, "ml-papers": {c["id"]}}
    context = SearchContext(user_id="U1", channel_id="C9", saved_ids=lambda u: saves.get(u, set()),
                            channel_ids=lambda ch: posted.get(ch, set()))
    assert set(ids(index, "topic saved:me", context=context)) == {a["id"], b["id"]}
    assert ids(index, "topic saved:me channel:here", context=context) == [b["id"]]
    assert ids(index, "topic channel:#ml-papers", context=context) == [c["id"]]
    assert set(ids(index, "topic -saved:me", context=context)) == {c["id"]}
    assert ids(index, "saved:me channel:here", context=context) == [b["id"]]


@pytest.mark.parametrize("query", ["topic saved:me", "channel:#general topic"])
def test_without_the_hook_saved_and_channel_explain_instead_of_failing(query: str) -> None:
    index = SearchIndex.build([paper("Paper about topic", "Words."), *FILLER])
    page = index.search(query)  # no context at all
    assert page.hits == [] and page.total == 0
    assert len(page.notes) == 1 and "drop it to search everything" in page.notes[0]
    page = index.search(query, context=SearchContext(user_id="U1", channel_id="C1"))  # context, no hook
    assert page.hits == [] and "available here" in page.notes[0]


def test_paging_is_consistent_and_scores_descend() -> None:
    papers = [paper(f"Transformer study number {i}", "transformer " * (i % 7 + 1), published=f"20{10 + i % 15}-01-01")
              for i in range(45)]
    index = SearchIndex.build(papers + FILLER)
    whole = index.search("transformer", limit=45)
    pages = [index.search("transformer", limit=10, offset=o) for o in range(0, 50, 10)]
    assert [h.paper["id"] for p in pages for h in p.hits] == [h.paper["id"] for h in whole.hits]
    assert {p.total for p in pages} == {45}
    scores = [h.score for h in whole.hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    assert index.search("transformer", limit=10, offset=100).hits == []


def test_incremental_add_and_replace_are_visible_immediately() -> None:
    index = SearchIndex.build(FILLER)
    assert len(index) == len(FILLER)
    first = paper("Mamba selective state spaces", "Linear-time sequence modeling.", paper_id="2312.00752")
    index.add([first])
    assert ids(index, "mamba") == ["2312.00752"]
    revised = paper("Mamba revisited: hardware-aware scans", "Selective scan kernels.", paper_id="2312.00752")
    index.add([revised])
    assert len(index) == len(FILLER) + 1
    assert ids(index, "hardware-aware scans") == ["2312.00752"]
    assert ids(index, "linear-time") == []  # the old text is gone
    assert index.search("mamba").hits[0].paper["title"] == "Mamba revisited: hardware-aware scans"


def test_many_small_adds_merge_segments_and_keep_results() -> None:
    index = SearchIndex.build(FILLER)
    added = [paper(f"Incremental paper {i}", f"keyword{i % 5} shared text") for i in range(200)]
    for record in added:
        index.add([record])
    assert index.stats()["segments"] <= 12
    assert len(ids(index, "keyword3", limit=100)) == 40
    for record in added[:50]:  # replacements leave tombstones that merging drops
        index.add([dict(record, abstract="rewritten")])
    assert len(ids(index, "keyword3", limit=100)) == 30
    assert len(index) == len(FILLER) + 200


def test_compaction_after_many_replacements_keeps_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.search.index.COMPACT_MIN_DEAD", 10)
    papers = [paper(f"Paper {i}", f"alpha{i % 3}") for i in range(30)]
    index = SearchIndex.build(papers)
    for text in ("gamma", "beta"):  # two rounds of replacements: 40 dead slots of 70
        for record in papers[:20]:
            index.add([dict(record, abstract=f"{text}{int(record['title'].split()[1]) % 3}")])
    assert index.stats()["slots"] < 70  # compacted on the way: replaced slots were reclaimed
    assert ids(index, "gamma1") == []
    assert len(ids(index, "beta1", limit=50)) == len([i for i in range(20) if i % 3 == 1])
    assert len(ids(index, "alpha1", limit=50)) == len([i for i in range(20, 30) if i % 3 == 1])


def test_index_follows_the_archive(tmp_path: Path) -> None:
    archive = Archive(Store(tmp_path / "archive.json"))
    archive.upsert([paper("Existing paper on kernels", "Old text.", paper_id="2101.00001")])
    index = SearchIndex.build(archive.snapshot())
    index.attach(archive)
    archive.upsert([paper("Brand new paper on retrieval", "New text.", paper_id="2402.00002")])
    assert ids(index, "retrieval") == ["2402.00002"]
    archive.upsert([paper("Existing paper on kernels", "Now about quantization.", paper_id="2101.00001")])
    assert ids(index, "quantization") == ["2101.00001"]
    assert len(index) == 2


def test_from_archive_builds_and_follows(tmp_path: Path) -> None:
    archive = Archive(Store(tmp_path / "archive.json"))
    archive.upsert([paper("Kernel methods", "Old.", paper_id="2101.00001")])
    index = SearchIndex.from_archive(archive)
    archive.upsert([paper("Retrieval augmented generation", "New.", paper_id="2402.00002")])
    assert ids(index, "kernel") == ["2101.00001"] and ids(index, "retrieval") == ["2402.00002"]


def test_concurrent_adds_and_searches_do_not_crash() -> None:
    index = SearchIndex.build([paper(f"Seed paper {i}", "common words here") for i in range(50)])
    errors: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            for i in range(start, start + 60):
                index.add([paper(f"Concurrent paper {i}", "common words here", paper_id=f"2405.{i:05d}")])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(150):
                page = index.search("common words", limit=5)
                assert page.total >= 50 and len(page.hits) == 5
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(s,)) for s in (0, 1000)] + \
        [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert index.search("common words").total == 170


def test_an_arxiv_id_or_link_brings_that_paper_first() -> None:
    target = paper("Unrelated title", "Nothing in common.", paper_id="2203.15556")
    other = paper("Compute optimal training", "Compute optimal.")
    index = SearchIndex.build([target, other, *FILLER])
    assert ids(index, "https://arxiv.org/abs/2203.15556v3")[0] == "2203.15556"
    assert ids(index, "compute 2203.15556") == ["2203.15556", other["id"]]
    assert "not in the archive" in index.search("2501.99999").notes[0]


def test_unknown_words_say_so() -> None:
    index = SearchIndex.build(FILLER)
    page = index.search("zzyzxq")
    assert page.hits == [] and page.notes == ["no paper mentions 'zzyzxq'"]


def test_refusals_are_query_errors_and_limits_are_clamped() -> None:
    index = SearchIndex.build(FILLER)
    for bad in ("", "the of", "x" * 501, "-speech"):
        with pytest.raises(QueryError):
            index.search(bad)
    assert len(index.search("learning", limit=10_000).hits) <= 100


def test_hits_are_copies() -> None:
    target = paper("Original title", "Text.", keywords=["kw"])
    index = SearchIndex.build([target])
    hit = index.search("original").hits[0]
    hit.paper["title"] = "changed"
    hit.paper["keywords"].append("more")
    again = index.search("original").hits[0].paper
    assert again["title"] == "Original title" and again["keywords"] == ["kw"]


def test_match_takes_papers_about_the_topic_not_passing_mentions() -> None:
    about = paper("Diffusion models for audio", "We train diffusion models.")
    keyword = paper("Audio synthesis", "A new model.", keywords=["diffusion"])
    repeated = paper("Audio synthesis again", "Diffusion here, diffusion there, diffusion everywhere.")
    passing = paper("A survey of generative audio",
                    "We compare many families of generative models for audio synthesis and speech, including "
                    "autoregressive models, flows and a diffusion baseline, on several benchmarks and metrics.")
    others = [paper(f"Diffusion for task {i}", "We apply a model to images.") for i in range(10)]  # a common word
    index = SearchIndex.build([about, keyword, repeated, passing, *others, *FILLER, *filler(300)])
    matched = [h.paper["id"] for h in index.match("diffusion")]
    assert set(matched) == {about["id"], keyword["id"], repeated["id"]} | {p["id"] for p in others}
    assert matched[0] == about["id"]
    assert passing["id"] in ids(index, "diffusion", limit=20)  # search still finds it
    assert [h.paper["id"] for h in index.match("diffusion", paper_ids=[keyword["id"], passing["id"]])] == \
        [keyword["id"]]
    assert index.match("diffusion audio") and not index.match("diffusion speech")
    assert index.match("topic saved:me") == []


def test_match_among_some_papers_equals_the_full_match_filtered_even_after_updates() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from synthetic import generate_papers

    records = generate_papers(3000, seed=5)
    index = SearchIndex.build(records)
    chosen = frozenset(r["id"] for r in records[::7])
    topics = ["diffusion", '"language model"', "graph -vision", "reinforcement learning", "author:smith",
              "attention transformers"]

    def among(topic: str, paper_ids: frozenset[str]) -> list[tuple[str, float]]:
        return [(h.paper["id"], h.score) for h in index.match(topic, paper_ids=paper_ids)]

    def filtered(topic: str, paper_ids: frozenset[str]) -> list[tuple[str, float]]:
        return [(h.paper["id"], h.score) for h in index.match(topic) if h.paper["id"] in paper_ids]

    assert sum(len(among(t, chosen)) for t in topics) > 20, "the topics must match something to compare"
    for topic in topics:
        assert among(topic, chosen) == filtered(topic, chosen), topic
    # A paper of the set rewritten to be about a topic: the cached restriction must not hide it.
    target = next(r for r in records[::7] if r["id"] not in {i for i, _ in among("chinchilla", chosen)})
    index.add([{**target, "title": "Chinchilla scaling laws revisited"}])
    assert target["id"] in {i for i, _ in among("chinchilla", chosen)}
    assert among("diffusion", chosen) == filtered("diffusion", chosen)


def test_a_broad_one_word_topic_needs_the_word_in_the_title() -> None:
    common = [paper(f"Study {i} of optimisers", "We report learning curves for deep networks trained with several "
                    "optimisers on standard benchmarks, with ablations of each component and analysis of errors.")
              for i in range(120)]  # `learning` in 120 of ~430 papers: a word that would flood a digest
    titled = paper("Learning to rank with transformers", "We rank documents.")
    keyword = paper("Ranking documents", "A ranking model.", keywords=["learning"])
    index = SearchIndex.build([titled, keyword, *common, *FILLER, *filler(300)])
    in_titles = {p["id"] for p in [titled, *FILLER] if "learning" in p["title"].lower()}
    assert {h.paper["id"] for h in index.match("learning")} == in_titles and len(in_titles) == 3
    assert keyword["id"] in {h.paper["id"] for h in index.match("learning ranking")}, "not when narrowed down"


def test_match_accepts_a_single_abstract_mention_of_a_rare_word() -> None:
    mention = paper("Compute-optimal training", "We train many models on a fixed budget and find that our "
                    "model, Chinchilla, beats larger ones trained on fewer tokens across benchmarks.")
    index = SearchIndex.build([mention, *FILLER, *filler(300)])
    assert [h.paper["id"] for h in index.match("chinchilla")] == [mention["id"]]


def test_an_empty_index_and_malformed_records_never_raise() -> None:
    index = SearchIndex.build([])
    assert len(index) == 0 and index.search("anything").total == 0 and index.match("anything") == []
    index.add([{"id": "2401.00001", "title": None, "abstract": 5, "authors": ["Zed", None, 3], "keywords": "kw",
                "links": ["not", "a", "dict"], "upvotes": "many", "published": 7},
               {"id": None, "title": "no id"}, {"title": "no id either"}])
    assert len(index) == 1
    assert ids(index, "zed") == ids(index, "kw") == ["2401.00001"]
    assert ids(index, "zed since:2020") == ids(index, "zed until:2030") == []  # no date: date filters drop it
