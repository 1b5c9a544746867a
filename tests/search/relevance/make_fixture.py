"""Regenerate tests/search/relevance/papers.json: the anchor papers plus seeded "filler" papers.

anchors.json holds hand-written anchor papers: real titles, ids, dates and (leading) authors of well-known
papers, with short abstracts paraphrased for this fixture (not the originals). Several groups compete on
purpose (scaling laws, sparse autoencoders, diffusion, attention variants, preference optimisation) so a
query has to pick the right one among near neighbours.

    .venv/bin/python tests/search/relevance/make_fixture.py

Fillers are realistic-looking ML papers assembled from real research vocabulary, so common words
("language models", "diffusion", "attention", "sparse", "scaling") appear in many papers and a query has
to rank the intended anchor above plausible neighbours. The output is committed; the relevance test
reads only the JSON (it never regenerates it).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from bot.papers import new_record  # noqa: E402

ANCHORS = json.loads((HERE / "anchors.json").read_text())

SEED = 7
FILLERS = 230

TOPICS = [
    ("retrieval-augmented generation", ["retriever", "retrieved passages", "knowledge-intensive questions"]),
    ("long-context language models", ["context window", "position interpolation", "needle-in-a-haystack"]),
    ("vision-language models", ["image captioning", "visual question answering", "image-text alignment"]),
    ("text-to-image diffusion", ["denoising steps", "classifier-free guidance", "image fidelity"]),
    ("video diffusion models", ["temporal consistency", "frame interpolation", "video generation"]),
    ("reinforcement learning from human feedback", ["reward model", "preference data", "policy optimization"]),
    ("preference optimization", ["chosen and rejected responses", "reference policy", "alignment tax"]),
    ("mixture-of-experts", ["expert routing", "load balancing", "sparse activation"]),
    ("state space models", ["selective scan", "recurrent state", "linear-time inference"]),
    ("graph neural networks", ["message passing", "node classification", "over-smoothing"]),
    ("federated learning", ["client drift", "communication rounds", "non-IID data"]),
    ("speech recognition", ["word error rate", "acoustic model", "streaming decoding"]),
    ("protein structure prediction", ["protein language model", "structure tokens", "binding affinity"]),
    ("code generation", ["unit tests", "program synthesis", "repository-level context"]),
    ("mathematical reasoning", ["chain-of-thought", "step-by-step solutions", "verifier"]),
    ("tool-using agents", ["API calls", "planning", "web navigation"]),
    ("multi-agent systems", ["agent communication", "debate", "role-playing"]),
    ("post-training quantization", ["4-bit weights", "outlier channels", "calibration set"]),
    ("knowledge distillation", ["teacher model", "student model", "soft labels"]),
    ("instruction tuning", ["instruction data", "task generalization", "synthetic instructions"]),
    ("sparse attention", ["attention patterns", "block sparsity", "kernel efficiency"]),
    ("model editing", ["factual associations", "locality", "edit success"]),
    ("mechanistic interpretability", ["attention heads", "activation patching", "circuits"]),
    ("adversarial robustness", ["adversarial examples", "certified defense", "perturbation budget"]),
    ("continual learning", ["catastrophic forgetting", "replay buffer", "task boundaries"]),
    ("3D reconstruction", ["multi-view images", "neural rendering", "novel view synthesis"]),
    ("time-series forecasting", ["forecast horizon", "seasonality", "foundation model for time series"]),
    ("recommender systems", ["user embeddings", "click-through rate", "sequential recommendation"]),
    ("autonomous driving", ["trajectory prediction", "bird's-eye view", "motion planning"]),
    ("robot manipulation", ["imitation learning", "dexterous grasping", "vision-language-action model"]),
    ("hallucination detection", ["factual consistency", "uncertainty estimation", "self-evaluation"]),
    ("jailbreak attacks", ["harmful requests", "red teaming", "safety alignment"]),
    ("data curation for pretraining", ["quality filtering", "deduplication", "data mixture"]),
    ("speculative decoding", ["draft model", "acceptance rate", "inference latency"]),
    ("KV cache compression", ["cache eviction", "memory footprint", "long generations"]),
    ("parameter-efficient fine-tuning", ["adapters", "low-rank updates", "trainable parameters"]),
    ("scaling laws", ["power law", "compute budget", "loss extrapolation"]),
    ("sparse autoencoders", ["dictionary features", "reconstruction loss", "feature interpretability"]),
    ("activation steering", ["steering vectors", "residual stream", "behaviour control"]),
    ("in-context learning", ["demonstrations", "few-shot prompts", "task vectors"]),
]
METHOD_WORDS = ["Adaptive", "Efficient", "Scalable", "Robust", "Unified", "Hierarchical", "Contrastive", "Dynamic",
                "Lightweight", "Self-Supervised", "Data-Efficient", "Training-Free", "Modular", "Causal"]
NAMES = ["Aurora", "Beacon", "Cascade", "Delta", "Ember", "Fathom", "Glide", "Harbor", "Iris", "Juno", "Kestrel",
         "Lumen", "Mosaic", "Nimbus", "Orbit", "Prism", "Quartz", "Relay", "Sable", "Tessera", "Umbra", "Vesta"]
TITLES = [
    "{name}: {method} {topic} with {aspect}",
    "{method} {topic} via {aspect}",
    "On the Limits of {topic}: {aspect} Revisited",
    "Rethinking {aspect} in {topic}",
    "{name}: Towards {method} {topic}",
    "A Benchmark for {aspect} in {topic}",
    "When Does {aspect} Help {topic}?",
    "Understanding {aspect} for {method} {topic}",
]
SENTENCES = [
    "{topic_cap} has become a central tool for modern machine learning systems, yet {aspect} remains poorly "
    "understood.",
    "We propose {name}, a {method_l} approach to {topic} that improves {aspect} without additional supervision.",
    "Existing methods for {topic} rely on {aspect2}, which limits their efficiency at scale.",
    "Our method combines {aspect} with {aspect2} and can be trained end to end.",
    "Experiments on {n} benchmarks show that {name} outperforms strong baselines by {gain} points on average.",
    "We further analyse how {aspect2} interacts with model size and training data.",
    "Ablations confirm that each component contributes, and the gains hold across {n2} model families.",
    "We release code, data and model checkpoints to support future research on {topic}.",
    "Our analysis reveals a trade-off between {aspect} and {aspect3} that practitioners should account for.",
    "Compared with prior work on {topic}, {name} requires {speed}x less compute at inference time.",
]
FIRST = ["Wei", "Yuki", "Priya", "Lucas", "Sofia", "Omar", "Chen", "Hana", "Mateo", "Ines", "Jonas", "Amara", "Ravi",
         "Elena", "Tariq", "Marta", "Kenji", "Zoë", "Anaïs", "Björn", "Dmitri", "Leila", "Noah", "Sara"]
LAST = ["Zhang", "Wang", "Tanaka", "Müller", "García", "Kim", "Nguyen", "Rossi", "Okafor", "Patel", "Novak",
        "Johansson", "Dubois", "Silva", "Kowalski", "Haddad", "Ivanova", "Sato", "Fischer", "Moreau", "Costa",
        "Lindqvist"]
CATS = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.RO", "cs.CR", "cs.IR"]


def filler(rng: random.Random, k: int) -> dict:
    topic, aspects = rng.choice(TOPICS)
    aspect, aspect2, aspect3 = rng.sample(aspects, 3)
    name = rng.choice(NAMES) + (rng.choice(["", "-2", "X", "Net", "LM"]))
    method = rng.choice(METHOD_WORDS)
    title = rng.choice(TITLES).format(name=name, method=method, topic=topic.title() if rng.random() < 0.5 else topic,
                                      aspect=aspect.title() if rng.random() < 0.5 else aspect)
    fields = dict(topic=topic, topic_cap=topic[0].upper() + topic[1:], aspect=aspect, aspect2=aspect2,
                  aspect3=aspect3, name=name, method_l=method.lower(), n=rng.randint(3, 12), n2=rng.randint(2, 5),
                  gain=round(rng.uniform(0.5, 9.5), 1), speed=rng.randint(2, 8))
    sentences = [SENTENCES[0], SENTENCES[1], *rng.sample(SENTENCES[2:], rng.randint(3, 6))]
    abstract = " ".join(s.format(**fields) for s in sentences)
    year = rng.randint(2018, 2025)
    month = rng.randint(1, 12)
    arxiv_id = f"{year % 100:02d}{month:02d}.{50000 + k:05d}"
    authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(2, 9))]
    cats = rng.sample(CATS, rng.randint(1, 3))
    links = {"github": f"https://github.com/lab{k}/{name.lower()}"} if rng.random() < 0.3 else {}
    published = f"{year}-{month:02d}-{rng.randint(1, 28):02d}T17:00:00Z"
    return new_record(arxiv_id, source="arxiv", seen_at=f"{year}-{month:02d}-15T12:00:00Z", title=title,
                      abstract=abstract, authors=authors, published=published,
                      categories=cats, primary_category=cats[0], links=links,  # type: ignore[arg-type]
                      upvotes=rng.randint(0, 60) if rng.random() < 0.4 else None)


def anchor(a: dict) -> dict:
    links = {"github": a["github"]} if a.get("github") else {}
    return new_record(a["id"], source="arxiv", seen_at=f"{a['date']}T12:00:00Z", title=a["title"],
                      abstract=a["abstract"], authors=a["authors"], published=f"{a['date']}T17:00:00Z",
                      categories=a["cats"], primary_category=a["cats"][0], links=links,  # type: ignore[arg-type]
                      keywords=a.get("keywords"), upvotes=a.get("upvotes"))


def main() -> int:
    rng = random.Random(SEED)
    papers = [anchor(a) for a in ANCHORS] + [filler(rng, k) for k in range(FILLERS)]
    ids = [p["id"] for p in papers]
    assert len(ids) == len(set(ids)), "duplicate ids"
    lines = ",\n".join(json.dumps(p, ensure_ascii=False, sort_keys=True) for p in papers)
    (HERE / "papers.json").write_text(f"[\n{lines}\n]\n")  # one paper a line: reviewable diffs
    print(f"wrote {len(papers)} papers ({len(ANCHORS)} anchors)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
