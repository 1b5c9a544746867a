"""Deterministic synthetic paper records for benchmarks (and, later, other benchmarks than search).

`generate_papers(n, seed)` returns records shaped exactly like `bot.papers.new_record` output, with
realistic sizes: ~80-character titles, ~1,200-character abstracts, 3–20 authors (some with accents),
Zipf-distributed words over a large vocabulary (a head of real ML words, a long tail of made-up terms,
numbers, hyphenated compounds and model names), so index sizes and posting-list lengths look like a real
archive's. The same (n, seed) always gives the same records.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `bot` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.papers import PaperRecord, new_record

FUNCTION_WORDS: dict[str, float] = {
    "the": 60, "of": 35, "and": 30, "to": 25, "a": 20, "in": 20, "we": 12, "for": 11, "is": 10, "that": 9,
    "on": 8, "with": 8, "this": 6, "by": 5, "as": 5, "are": 5, "our": 5, "from": 4, "an": 4, "which": 3,
    "be": 3, "can": 3, "these": 2, "it": 2, "at": 2, "or": 2, "such": 1.5, "while": 1.2, "than": 1.2,
    "both": 1, "through": 1, "into": 1, "across": 1, "without": 0.8, "when": 0.8, "however": 0.7,
    "more": 1, "not": 0.8, "has": 0.8, "have": 0.8, "also": 0.8, "their": 0.8, "its": 0.8, "only": 0.6,
}


def _split(text: str) -> list[str]:
    return text.split()


# The head of the content vocabulary: real words, most frequent first (Zipf rank = list order).
CONTENT_WORDS = _split("""
model models language learning data performance results training method approach task tasks large show propose
based using network neural new paper framework methods existing state-of-the-art demonstrate dataset datasets
benchmark benchmarks evaluation multiple problem generation information different work tasks propose effective
efficient improve significantly however across various novel reasoning llms agents agent reinforcement policy
reward inference representation representations image images video text vision visual multimodal diffusion
generative transformer transformers attention layer layers parameters scaling compute optimization gradient
loss objective fine-tuning pretraining pre-trained supervised unsupervised self-supervised contrastive
embedding embeddings retrieval graph graphs node features feature semantic semantics structure structures
robust robustness adversarial privacy federated clients distributed memory efficient efficiency latency
throughput hardware sparse sparsity dense quantization pruning distillation compression token tokens context
long-context sequence sequences decoding sampling alignment preference human feedback instruction instructions
prompt prompting chain-of-thought mathematical math code program programs synthesis verification proof theorem
safety harmful jailbreak attacks attack defense detection segmentation classification regression clustering
estimation prediction forecasting time-series temporal spatial 3d scene scenes rendering reconstruction point
cloud depth motion robot robotic manipulation navigation planning control controller simulation real-world
world physical physics dynamics environment environments exploration online offline speech audio music sound
recognition translation multilingual low-resource cross-lingual knowledge factual hallucination hallucinations
faithfulness interpretability explainability mechanistic circuits neurons features autoencoders probing
steering activation activations latent latents space manifold theoretical theory analysis bounds convergence
generalization complexity sample regret stochastic bayesian uncertainty calibration probabilistic variational
kernel gaussian process processes causal counterfactual fairness bias biases medical clinical patients
healthcare molecular protein proteins drug chemistry materials climate weather satellite remote sensing
tabular recommendation users user search ranking queries query documents document summarization question
answering dialogue conversational chat assistant tool tools api evaluation metrics metric human-annotated
annotation labels label noisy noise weak supervision curriculum transfer domain adaptation shift out-of-
distribution continual lifelong catastrophic forgetting meta-learning few-shot zero-shot in-context emergent
abilities scale laws mixture experts routing moe sparse efficient kernels gpu gpus cluster parallelism
pipeline throughput serving cache kv speculative acceleration accelerate faster speedup cost budget budgets
allocation optimal compute-optimal tradeoff trade-off frontier capabilities capability open-source open
weights release releases code available publicly https github com project page benchmark suite leaderboard
""")

SYLLABLES = ("ka ro mi ne ta lo vi su pe dra qu ix on el ar st tr ph ch gen tor lex morph net form " +
             "bi co de fi gu ha je ku ly ma no pi ri so tu va we xo yu ze ax ov ur iq").split()

FIRST_NAMES = _split("""
Geoffrey Yann Yoshua Ilya Andrej Oriol Jeff Noam Ashish Niki Jakob Llion Aidan Lukasz Illia Jordan Sebastian
Arthur Elena Maria Jose Francois Zoe Bjorn Soren Jurgen Bernhard Wei Li Xin Yu Hao Jing Min Priya Anjali Rahul
Arjun Kenji Yuki Hiroshi Sakura Ji-woon Min-jun Chloe Emma Olivia Liam Noah Lucas Mateo Sofia Isabella Amelie
Leonie Pawel Agnieszka Tomas Dmitri Olga Ivan Nikolai Fatima Omar Ahmed Aisha Kwame Amara Tendai Carlos Diego
Gabriel Rafael Ines Beatriz Joao Hannah Jonas Felix Katharina Julia Paul Percy Chris Christopher Jacob Jared
Tom Dario Sam Jan Alec Mark Samuel Nelson Dan Catherine
""")

LAST_NAMES = _split("""
Hinton LeCun Bengio Sutskever Karpathy Vinyals Dean Shazeer Vaswani Parmar Uszkoreit Jones Gomez Kaiser
Polosukhin Hoffmann Borgeaud Mensch Buchatskaya Cai Rutherford Schölkopf Müller Schmidhuber Sørensen
Łukasiewicz Nowak García Martínez López González Pérez Sánchez Ramírez Dubois Lefèvre Moreau Girard Zhang Wang
Li Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao Tanaka Suzuki Sato Watanabe Kim Park
Choi Jung Kang Cho Yoon Singh Kumar Sharma Patel Gupta Reddy Iyer Nair Okafor Mensah Adeyemi Kowalski Novak
Horváth Nagy Popescu Ivanov Petrov Smirnov Kuznetsov Andersen Nielsen Johansson Lindqvist Virtanen Korhonen
Rossi Russo Bianchi Romano Costa Silva Santos Ferreira Oliveira Schmidt Schneider Fischer Weber Wagner Becker
Hoffmann Schulz Koch Richter Klein Wolf Neumann Krüger Kaplan McCandlish Henighan Brown Amodei Radford Olah
Elhage Nanda Conmy Cunningham Bricken Templeton
""")

_UNICODE_BITS = ("“robust”", "model’s", "—", "≈2×", "α-divergence", "μ-parametrisation", "Pareto–optimal",
                 "naïve", "β=0.9", "≤", "Schrödinger")
CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.RO", "cs.CR", "cs.IR", "eess.AS", "q-bio.QM")
TITLE_PATTERNS = (
    "{Name}: {A} {b} {c} for Efficient {d} {e} in {f} Models",
    "{A} {b} {c}: {Name}, a Framework for {d} {e} and {f}",
    "Towards {A} {b} {c} via {d} {e} in Large Language Models",
    "On the {A} of {b} {c} in {d} {e}: Theory and Practice of {f}",
    "{A} {b} Is All You Need for {c} {d} with {e} {f}",
    "Scaling {A} {b} with {c} {d} and {e} {f} for Multimodal Reasoning",
    "{Name}: A {A} {b} Benchmark for {c} {d} {e} and {f}",
    "Learning {A} {b} from {c} {d} with Self-Supervised {e} {f}",
    "{A} {b} {c} with {d} {e} {f}: Lessons from Large-Scale Experiments",
    "Revisiting {A} {b} for {c} {d}: When Does {e} {f} Help?",
)


def _pseudo_words(rng: np.random.Generator, count: int) -> list[str]:
    """Made-up but pronounceable words for the vocabulary's long tail (like rare technical terms)."""
    seen: dict[str, None] = {}
    while len(seen) < count:
        lengths = rng.integers(2, 5, size=count)
        # Plain lists: joining numpy strings one word at a time costs most of a small test's run.
        picks = [SYLLABLES[p] for p in rng.integers(0, len(SYLLABLES), size=int(lengths.sum())).tolist()]
        position = 0
        for length in lengths.tolist():
            seen.setdefault("".join(picks[position:position + length]), None)
            position += length
    return list(seen)[:count]


class _Lexicon:
    def __init__(self, rng: np.random.Generator, tail_size: int = 120_000) -> None:
        head = list(dict.fromkeys(CONTENT_WORDS))
        tail = [w for w in _pseudo_words(rng, tail_size) if w not in FUNCTION_WORDS]
        self.content = np.array(head + tail, dtype=object)
        ranks = np.arange(1, len(self.content) + 1, dtype=np.float64)
        weights = 1.0 / ranks**1.02  # Zipf-like, as word frequencies in abstracts are
        self.content_cdf = np.cumsum(weights) / weights.sum()
        self.function = np.array(list(FUNCTION_WORDS), dtype=object)
        fweights = np.array(list(FUNCTION_WORDS.values()))
        self.function_cdf = np.cumsum(fweights) / fweights.sum()

        left = self.content[:400][rng.integers(0, 400, size=3000)]
        right = self.content[:2000][rng.integers(0, 2000, size=3000)]
        self.compounds = np.array([f"{a}-{b}" for a, b in zip(left, right, strict=True)], dtype=object)

    def compound(self, rng: np.random.Generator) -> str:
        return str(self.compounds[min(int(rng.zipf(1.3)), len(self.compounds)) - 1])

    def content_words(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return self.content[np.searchsorted(self.content_cdf, rng.random(count))]

    def topic_words(self, rng: np.random.Generator, count: int) -> np.ndarray:
        # A paper's own key terms are mid-frequency words (log-uniform rank), not "the model" or hapaxes.
        ranks = np.exp(rng.uniform(np.log(20), np.log(len(self.content) // 2), size=count)).astype(np.int64)
        return self.content[ranks]

    def function_words(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return self.function[np.searchsorted(self.function_cdf, rng.random(count))]


def _abstract(rng: np.random.Generator, lex: _Lexicon, topic: np.ndarray, target_chars: int) -> str:
    words: list[str] = []
    chars = 0
    while chars < target_chars:
        n = int(rng.integers(14, 30))
        kinds = rng.random(n).tolist()
        content = lex.content_words(rng, n).tolist()
        function = lex.function_words(rng, n).tolist()
        topical = topic[rng.integers(0, len(topic), size=n)].tolist()
        sentence: list[str] = []
        for i in range(n):
            if kinds[i] < 0.45:
                sentence.append(function[i])
            elif kinds[i] < 0.62:
                sentence.append(topical[i])  # papers repeat their own key terms
            elif kinds[i] < 0.635:
                sentence.append(lex.compound(rng))  # recurring compounds: "large-scale", "token-level"
            elif kinds[i] < 0.64:
                sentence.append(f"{content[i]}-{topical[i]}")  # and one-off ones
            elif kinds[i] < 0.65:
                sentence.append(f"{rng.integers(1, 100)}.{rng.integers(0, 10)}%")
            else:
                sentence.append(content[i])
        sentence[0] = str(sentence[0]).capitalize()
        if rng.random() < 0.01:  # as in real abstracts: curly quotes, dashes, symbols, Greek, accents
            bit = _UNICODE_BITS[int(rng.integers(0, len(_UNICODE_BITS)))]
            sentence.insert(int(rng.integers(0, len(sentence))), bit)
        text = " ".join(sentence)
        if rng.random() < 0.3:
            text = text.replace(" ", ", ", 1)
        words.append(text + ".")
        chars += len(text) + 2
    return " ".join(words)


def _title(rng: np.random.Generator, lex: _Lexicon, topic: np.ndarray) -> str:
    pattern = TITLE_PATTERNS[int(rng.integers(0, len(TITLE_PATTERNS)))]
    picks = [str(w) for w in topic[rng.integers(0, len(topic), size=4)]] + [
        str(w) for w in lex.content_words(rng, 2)
    ]
    name = "".join(str(w).capitalize() for w in lex.content_words(rng, 2))[:12]
    slots = dict(zip("abcdef", picks, strict=True))
    slots["A"] = picks[0].capitalize()
    slots["Name"] = name
    return pattern.format(**slots)


def generate_papers(n: int, seed: int = 0) -> list[PaperRecord]:
    """`n` synthetic records, identical for the same (n, seed); ids are unique new-style arXiv ids."""
    rng = np.random.default_rng(seed)
    lex = _Lexicon(rng)
    first = np.array(FIRST_NAMES, dtype=object)
    last = np.array(LAST_NAMES, dtype=object)
    per_month: dict[str, int] = {}
    records: list[PaperRecord] = []
    for i in range(n):
        topic = lex.topic_words(rng, 12)
        year = 2018 + int(rng.integers(0, 8))
        month = 1 + int(rng.integers(0, 12))
        day = 1 + int(rng.integers(0, 28))
        yymm = f"{year % 100:02d}{month:02d}"
        per_month[yymm] = per_month.get(yymm, 0) + 1
        arxiv_id = f"{yymm}.{per_month[yymm] + 10000 * (i % 2):05d}" if per_month[yymm] < 10000 else f"{yymm}.{i:05d}"
        # Author counts: 3–20, median 6, long tail (as on arXiv cs.LG), not uniform.
        n_authors = int(np.clip(round(np.exp(rng.normal(np.log(6), 0.45))), 3, 20))
        authors = [
            f"{first[a]} {chr(65 + int(m))}. {last[b]}" if m < 4 else f"{first[a]} {last[b]}"
            for a, b, m in zip(rng.integers(0, len(first), n_authors), rng.integers(0, len(last), n_authors),
                               rng.integers(0, 26, n_authors), strict=True)
        ]
        has_code = rng.random() < 0.35
        from_hf = rng.random() < 0.4
        links = {"github": f"https://github.com/{str(last[i % len(last)]).lower()}/{topic[0]!s}-{i}"} \
            if has_code else {}
        published = f"{year}-{month:02d}-{day:02d}T17:{i % 60:02d}:00Z"
        categories = list(rng.choice(CATEGORIES, size=int(rng.integers(1, 4)), replace=False))
        record = new_record(
            arxiv_id,
            source="hf" if from_hf else "arxiv",
            seen_at=published,
            title=_title(rng, lex, topic),
            abstract=_abstract(rng, lex, topic, int(rng.normal(1100, 250)) if rng.random() < 0.98 else 2400),
            authors=authors,
            published=published,
            updated=published,
            categories=[str(c) for c in categories],
            primary_category=str(categories[0]),
            links=links,  # type: ignore[arg-type]
            upvotes=int(rng.geometric(0.05)) if from_hf else None,
            keywords=[f"{a} {b}" for a, b in zip(topic[:5], lex.content_words(rng, 5), strict=True)]
            if from_hf else [],
            version=1,
            hf_date=published[:10] if from_hf else None,
        )
        records.append(record)
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description="Print summary statistics of a synthetic archive.")
    parser.add_argument("n", type=int, nargs="?", default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    papers = generate_papers(args.n, args.seed)
    titles = [len(p["title"]) for p in papers]
    abstracts = [len(p["abstract"]) for p in papers]
    authors = [len(p["authors"]) for p in papers]
    print(f"{len(papers)} papers; title chars mean {np.mean(titles):.0f}; abstract chars mean "
          f"{np.mean(abstracts):.0f} (p5 {np.percentile(abstracts, 5):.0f}, p95 {np.percentile(abstracts, 95):.0f}); "
          f"authors {min(authors)}–{max(authors)}")
    print(papers[0]["title"])
    print(papers[0]["abstract"][:400])
    print(papers[0]["authors"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
