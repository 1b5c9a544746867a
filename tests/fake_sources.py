"""A local stand-in for the Hugging Face API and the arXiv API, serving payloads in their exact real shapes
(see /work/shared/README.md), plus generators of realistic papers for tests and benchmarks.

    with FakeSources() as fake:
        fake.add_hf_day("2026-11-20", [hf_item(...), ...])
        fake.add_arxiv(arxiv_entry(...))
        settings = fake.settings(tmp_path)        # HF_API_URL / ARXIV_API_URL point here
        fake.fail("daily_papers", Reply(500))     # fault injection, see LocalHTTPServer.fail

Hugging Face lives under /hf/api (daily_papers, papers/{id}), arXiv under /arxiv/api/query.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import orjson
from cli_runner import TEST_DEFAULTS
from local_http import LocalHTTPServer, Reply, Seen

from bot.config import Settings, load_settings

FIXTURES = Path(__file__).with_name("fixtures")
HF_PREFIX = "/hf/api"
ARXIV_PATH = "/arxiv/api/query"


class FakeSources(LocalHTTPServer):
    def __init__(self) -> None:
        super().__init__(self._route)
        self.hf_days: dict[str, list[dict[str, Any]]] = {}
        self.hf_papers: dict[str, dict[str, Any]] = {}  # extra `papers/{id}` answers
        self.arxiv_entries: list[dict[str, Any]] = []

    # --- data -------------------------------------------------------------------------------------------
    def add_hf_day(self, day: str, items: Iterable[dict[str, Any]]) -> None:
        self.hf_days.setdefault(day, []).extend(items)

    def add_arxiv(self, *entries: dict[str, Any]) -> None:
        self.arxiv_entries.extend(entries)

    @property
    def hf_api_url(self) -> str:
        return self.url + HF_PREFIX

    @property
    def arxiv_api_url(self) -> str:
        return self.url + ARXIV_PATH

    def env(self, data_dir: Path, **overrides: str) -> dict[str, str]:
        """Environment for a paperbot process talking to this server (fast: no delay, quick retries)."""
        return {
            **TEST_DEFAULTS,
            "HF_API_URL": self.hf_api_url,
            "ARXIV_API_URL": self.arxiv_api_url,
            "PAPERBOT_DATA_DIR": str(data_dir),
            "PAPERBOT_ARXIV_DELAY": "0",
            "PAPERBOT_HTTP_TIMEOUT": "2",
            "PAPERBOT_HTTP_RETRIES": "1",
            "PAPERBOT_TZ": "UTC",
            **overrides,
        }

    def settings(self, data_dir: Path, **overrides: str) -> Settings:
        return load_settings(self.env(data_dir, **overrides))

    # --- routing ----------------------------------------------------------------------------------------
    def _route(self, req: Seen) -> Reply:
        if req.path == f"{HF_PREFIX}/daily_papers":
            return self._daily_papers(req)
        if req.path.startswith(f"{HF_PREFIX}/papers/"):
            return self._hf_paper(req.path[len(f"{HF_PREFIX}/papers/"):])
        if req.path == ARXIV_PATH:
            return self._arxiv_query(req)
        return Reply.json('{"error":"Not Found"}', status=404)

    def _daily_papers(self, req: Seen) -> Reply:
        items = self.hf_days.get(req.query.get("date", ""), [])
        page = int(req.query.get("p", "0"))
        limit = int(req.query.get("limit", "50"))
        return Reply.json(orjson.dumps(items[page * limit:(page + 1) * limit]))

    def _hf_paper(self, arxiv_id: str) -> Reply:
        if arxiv_id in self.hf_papers:
            return Reply.json(orjson.dumps(self.hf_papers[arxiv_id]))
        for items in self.hf_days.values():
            for item in items:
                if item["paper"]["id"] == arxiv_id:
                    return Reply.json(orjson.dumps({**item["paper"], "linkedModels": [], "linkedDatasets": [],
                                                    "linkedSpaces": []}))
        return Reply.json('{"error":"Paper not found"}', status=404)

    def _arxiv_query(self, req: Seen) -> Reply:
        start = int(req.query.get("start", "0"))
        per_page = int(req.query.get("max_results", "10"))
        if req.query.get("id_list"):
            wanted = req.query["id_list"].split(",")
            found = [e for e in (self._newest(i) for i in wanted) if e is not None]
            return _atom(render_atom(found[start:start + per_page], total=len(found), start=start,
                                     per_page=per_page, query=f"id_list={req.query['id_list']}"))
        query = req.query.get("search_query", "")
        category = query.removeprefix("cat:")
        matching = [e for e in self._newest_versions() if category in e["categories"]]
        matching.sort(key=lambda e: (e["published"], e["id"]), reverse=True)
        return _atom(render_atom(matching[start:start + per_page], total=len(matching), start=start,
                                 per_page=per_page, query=f"search_query={query}"))

    def _newest_versions(self) -> list[dict[str, Any]]:
        newest: dict[str, dict[str, Any]] = {}
        for entry in self.arxiv_entries:
            if entry["id"] not in newest or entry["version"] > newest[entry["id"]]["version"]:
                newest[entry["id"]] = entry
        return list(newest.values())

    def _newest(self, arxiv_id: str) -> dict[str, Any] | None:
        return next((e for e in self._newest_versions() if e["id"] == arxiv_id), None)


def _atom(body: bytes) -> Reply:
    return Reply(200, body, {"Content-Type": "application/atom+xml; charset=utf-8"})


# --- payload builders in the real shapes ---------------------------------------------------------------

def _mongo_id(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(24))


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def hf_item(arxiv_id: str, title: str, *, day: str, rng: random.Random | None = None, abstract: str = "",
            authors: Iterable[str] = (), published: str | None = None, upvotes: int | None = 0,
            keywords: Iterable[str] = (), keywords_at: str = "paper", github: str | None = None,
            project: str | None = None, stars: int | None = None) -> dict[str, Any]:
    """A Daily Papers array item. `paper.title` gets arXiv-style line breaks; `keywords_at` ("paper" or
    "item") says where `ai_keywords`/`githubRepo` go, as both occur in the wild."""
    rng = rng or random.Random(arxiv_id)
    words = title.split(" ")
    broken = " ".join(words[:len(words) // 2]) + "\n  " + " ".join(words[len(words) // 2:]) if len(words) > 3 else title
    submitter = {"_id": _mongo_id(rng), "avatarUrl": f"/avatars/{_mongo_id(rng)[:10]}.svg", "isPro": rng.random() < 0.3,
                 "fullname": "AK", "user": "akhaliq", "type": "user"}
    added = datetime.fromisoformat(f"{day}T04:00:00+00:00") + timedelta(seconds=rng.randrange(60_000))
    paper: dict[str, Any] = {
        "id": arxiv_id,
        "authors": [{"_id": _mongo_id(rng), "name": name, "hidden": False} for name in authors],
        "mediaUrls": [],
        "publishedAt": published or _iso_ms(added - timedelta(days=1)),
        "submittedOnDailyAt": _iso_ms(added),
        "title": broken,
        "submittedOnDailyBy": submitter,
        "summary": abstract,
        "upvotes": upvotes,
        "discussionId": _mongo_id(rng),
    }
    extras: dict[str, Any] = {}
    if keywords:
        extras["ai_keywords"] = list(keywords)
        extras["ai_summary"] = abstract.split(".")[0] + "."
    if github:
        extras["githubRepo"] = github
    if project:
        paper["projectPage"] = project
    if stars is not None:
        paper["githubStars"] = stars
    item: dict[str, Any] = {
        "paper": paper,
        "publishedAt": _iso_ms(added),
        "title": title,
        "summary": abstract,
        "mediaUrls": [],
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{arxiv_id}.png",
        "numComments": rng.randrange(5),
        "submittedBy": {**{k: v for k, v in submitter.items() if k != "user"}, "name": submitter["user"],
                        "isHf": False, "isMod": False, "followerCount": rng.randrange(10_000)},
        "isAuthorParticipating": rng.random() < 0.5,
    }
    (paper if keywords_at == "paper" else item).update(extras)
    return item


def arxiv_entry(arxiv_id: str, title: str, *, published: str, version: int = 1, updated: str | None = None,
                abstract: str = "", authors: Iterable[str] = ("A. Author",), categories: Iterable[str] = ("cs.LG",),
                comment: str | None = None, journal_ref: str | None = None, doi: str | None = None) -> dict[str, Any]:
    """One arXiv version of a paper, rendered by `render_atom`. Dates are ISO 8601 with Z."""
    cats = list(categories)
    return {"id": arxiv_id, "version": version, "title": title, "summary": abstract, "authors": list(authors),
            "published": published, "updated": updated or published, "categories": cats, "primary": cats[0],
            "comment": comment, "journal_ref": journal_ref, "doi": doi}


def render_atom(entries: list[Mapping[str, Any]], *, total: int, start: int, per_page: int, query: str) -> bytes:
    """An arXiv API answer: Atom with opensearch totals and arxiv: extensions, namespaces on the root as
    the current API does (the hand-written fixture declares them per element, as the older API did)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom">',
        f'  <id>https://arxiv.org/api/{abs(hash(query)) % 10**12:012d}</id>',
        f'  <title>arXiv Query: {escape(query)}&amp;start={start}&amp;max_results={per_page}</title>',
        '  <updated>2026-11-24T00:00:00Z</updated>',
        f'  <link href={quoteattr("https://arxiv.org/api/query?" + query)} type="application/atom+xml"/>',
        f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>",
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>",
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>",
    ]
    for e in entries:
        vid = f"{e['id']}v{e['version']}"
        words = e["title"].split(" ")
        title = " ".join(words[:6]) + ("\n  " + " ".join(words[6:]) if len(words) > 6 else "")
        out += [
            "  <entry>",
            f"    <id>http://arxiv.org/abs/{vid}</id>",
            f"    <title>{escape(title)}</title>",
            f"    <updated>{e['updated']}</updated>",
            f"    <link href=\"https://arxiv.org/abs/{vid}\" rel=\"alternate\" type=\"text/html\"/>",
            f"    <link href=\"https://arxiv.org/pdf/{vid}\" rel=\"related\" type=\"application/pdf\" title=\"pdf\"/>",
            f"    <summary>{escape(e['summary'])}\n</summary>",
        ]
        out += [f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in e["categories"]]
        out.append(f'    <published>{e["published"]}</published>')
        out.append(f'    <arxiv:primary_category term="{e["primary"]}"/>')
        if e.get("comment"):
            out.append(f"    <arxiv:comment>{escape(e['comment'])}</arxiv:comment>")
        if e.get("journal_ref"):
            out.append(f"    <arxiv:journal_ref>{escape(e['journal_ref'])}</arxiv:journal_ref>")
        if e.get("doi"):
            out.append(f"    <arxiv:doi>{escape(e['doi'])}</arxiv:doi>")
            out.append(f'    <link rel="related" href="https://doi.org/{escape(e["doi"])}" title="doi"/>')
        for name in e["authors"]:
            out.append(f"    <author>\n      <name>{escape(name)}</name>\n    </author>")
        out.append("  </entry>")
    out.append("</feed>\n")
    return "\n".join(out).encode()


# --- realistic synthetic papers -----------------------------------------------------------------------

_TOPICS = ["Sparse Attention", "Diffusion Transformers", "Mixture-of-Experts", "Graph Neural Networks",
           "In-Context Learning", "Reward Models", "Speculative Decoding", "Vision-Language Models",
           "State Space Models", "Federated Learning", "Protein Language Models", "Test-Time Compute",
           "Tokenizer-Free Models", "Retrieval-Augmented Generation", "Neural Radiance Fields", "Model Merging"]
_CLAIMS = ["Scaling Laws for", "Rethinking", "Efficient", "On the Robustness of", "Towards Faithful",
           "A Benchmark for", "Understanding", "Self-Supervised", "Provably Stable", "Lightweight"]
_TAILS = ["at Scale", "without Labels", "for Long Contexts", "in the Wild", "via Distillation",
          "with Verifiable Rewards", "under Distribution Shift", "on Edge Devices", "from Human Feedback", ""]
_FIRST = ["Mei", "Jonas", "Priya", "Lucía", "Oluwaseun", "Ana", "Wei", "Sofia", "Omar", "Hannah", "Kenji",
          "Amara", "Ivan", "Zoë", "Rahul", "Chen", "Fatima", "Lars", "Tomás", "Yuki"]
_LAST = ["Tanaka", "Müller", "Raghavan", "Fernández", "Adeyemi", "Souza", "Zhang", "Rossi", "Haddad",
         "Schmidt", "Sato", "Okafor", "Petrov", "Dubois", "Gupta", "Li", "Khan", "Nilsson", "García", "Ito"]
_SENTENCES = ["We propose a simple method that improves sample efficiency.",
              "Experiments on twelve benchmarks show consistent gains over strong baselines.",
              "Our analysis reveals a trade-off between compute and accuracy.",
              "We release code, data and trained models.",
              "Theoretical results explain when and why the approach works.",
              "The method requires no additional labelled data and adds negligible latency."]


def synthetic_paper(rng: random.Random, arxiv_id: str) -> dict[str, Any]:
    """Title, abstract, authors, keywords for a plausible ML paper (deterministic for a seeded rng)."""
    topic = rng.choice(_TOPICS)
    title = " ".join(filter(None, [rng.choice(_CLAIMS), topic, rng.choice(_TAILS)]))
    abstract = f"{topic} are widely used. " + " ".join(rng.sample(_SENTENCES, 4))
    authors = [f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" for _ in range(rng.randint(1, 8))]
    return {"id": arxiv_id, "title": title, "abstract": abstract, "authors": authors,
            "keywords": [topic.lower(), *rng.sample(["benchmark", "efficiency", "scaling", "alignment"], 2)]}


def make_hf_day(day: str, count: int, *, rng: random.Random, id_start: int = 1) -> list[dict[str, Any]]:
    """`count` Daily Papers items for `day`, ids YYMM.NNNNN from `id_start`, keywords in either place."""
    yymm = day[2:4] + day[5:7]
    items = []
    for n in range(id_start, id_start + count):
        paper = synthetic_paper(rng, f"{yymm}.{n:05d}")
        items.append(hf_item(paper["id"], paper["title"], day=day, rng=rng, abstract=paper["abstract"],
                             authors=paper["authors"], upvotes=rng.randrange(150), keywords=paper["keywords"],
                             keywords_at=rng.choice(["paper", "item"]),
                             github=f"https://github.com/lab{n}/code" if rng.random() < 0.4 else None))
    return items


def make_arxiv_entries(first_day: date, days: int, per_day: int, *, rng: random.Random, id_start: int = 1,
                       categories: tuple[str, ...] = ("cs.LG", "cs.CL", "stat.ML")) -> list[dict[str, Any]]:
    """`per_day` submissions per day for `days` days from `first_day`, spread over `categories`."""
    entries = []
    n = id_start
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for _ in range(per_day):
            paper = synthetic_paper(rng, f"{day:%y%m}.{n:05d}")
            primary = rng.choice(categories)
            others = [c for c in categories if c != primary]
            cats = [primary, *rng.sample(others, min(len(others), rng.randint(0, 1)))]
            stamp = f"{day.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
            entries.append(arxiv_entry(paper["id"], paper["title"], published=stamp, abstract=paper["abstract"],
                                       authors=paper["authors"], categories=cats,
                                       comment=f"{rng.randint(8, 40)} pages" if rng.random() < 0.5 else None))
            n += 1
    return entries


def load_fixture(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()
