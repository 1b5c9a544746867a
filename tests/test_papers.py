"""Paper ids and record merging: every spelling of a paper is one record, and merging loses nothing."""

import pytest

from bot.papers import (
    MAX_ABSTRACT_CHARS,
    MAX_AUTHORS,
    MAX_CATEGORIES,
    MAX_KEYWORD_CHARS,
    MAX_KEYWORDS,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_TITLE_CHARS,
    clean_text,
    find_arxiv_ids,
    merge_records,
    new_record,
    normalize_arxiv_id,
    parse_arxiv_id,
    printable,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2405.12345", "2405.12345"),
        ("2405.12345v2", "2405.12345"),
        ("arXiv:2405.12345v3", "2405.12345"),
        ("ARXIV:2405.12345", "2405.12345"),
        ("0704.0001", "0704.0001"),
        ("https://arxiv.org/abs/2405.12345v2", "2405.12345"),
        ("http://arxiv.org/abs/2202.01615v1", "2202.01615"),
        ("https://arxiv.org/pdf/2405.12345v1.pdf", "2405.12345"),
        ("https://arxiv.org/pdf/2405.12345", "2405.12345"),
        ("https://export.arxiv.org/abs/2405.12345?context=cs", "2405.12345"),
        ("https://huggingface.co/papers/2405.12345", "2405.12345"),
        ("<https://huggingface.co/papers/2405.12345|a paper>", "2405.12345"),
        ("oai:arXiv.org:2203.01250v3", "2203.01250"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("http://arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("math.gt/0309136", "math.GT/0309136"),
        ("https://arxiv.org/abs/math.GT/0309136v1", "math.GT/0309136"),
    ],
)
def test_every_spelling_normalises_to_the_bare_id(text: str, expected: str) -> None:
    assert normalize_arxiv_id(text) == expected


@pytest.mark.parametrize("text", ["", "hello", "12345", "2405.123", "2405.123456", "https://example.com/2405.12345",
                                  "https://arxiv.org/abs/2405.12345/extra/path", "huggingface.co/models/x"])
def test_non_ids_are_rejected(text: str) -> None:
    assert normalize_arxiv_id(text) is None


def test_version_is_reported() -> None:
    assert parse_arxiv_id("2405.12345v7") == ("2405.12345", 7)
    assert parse_arxiv_id("2405.12345") == ("2405.12345", None)


def test_ids_found_in_a_slack_message_once_each_in_order() -> None:
    text = ("see <https://arxiv.org/abs/2405.12345v2|this> and https://huggingface.co/papers/2401.00001 "
            "and arXiv:2405.12345 again, plus <http://arxiv.org/pdf/hep-th/9901001v1.pdf>")
    assert find_arxiv_ids(text) == ["2405.12345", "2401.00001", "hep-th/9901001"]


def test_new_record_normalises_text_and_links() -> None:
    record = new_record("arXiv:2405.12345v2", source="hf", title="Sparse\n  Autoencoders:\tAn  Overview",
                        authors=["  Ada  Lovelace ", ""], published="2024-05-20T17:59:00.000Z")
    assert record["id"] == "2405.12345"
    assert record["title"] == "Sparse Autoencoders: An Overview"
    assert record["authors"] == ["Ada Lovelace"]
    assert record["version"] == 2
    assert record["published"] == "2024-05-20T17:59:00Z"
    assert record["links"]["abs"] == "https://arxiv.org/abs/2405.12345"
    assert record["links"]["pdf"] == "https://arxiv.org/pdf/2405.12345"


def test_merge_keeps_everything_known_and_takes_newer_upvotes() -> None:
    arxiv = new_record("2405.12345v1", source="arxiv", seen_at="2026-01-01T00:00:00Z", title="T",
                       abstract="Long abstract.", authors=["A", "B"], categories=["cs.LG", "cs.CL"],
                       primary_category="cs.LG", published="2024-05-20T00:00:00Z")
    hf = new_record("2405.12345", source="hf", seen_at="2026-01-02T00:00:00Z", title="T", upvotes=12,
                    keywords=["sparse autoencoders"], links={"github": "https://github.com/x/y"})
    merged = merge_records(arxiv, hf)
    assert merged["upvotes"] == 12
    assert merged["abstract"] == "Long abstract."  # hf sighting had none: not erased
    assert merged["authors"] == ["A", "B"]
    assert merged["categories"] == ["cs.LG", "cs.CL"]
    assert merged["sources"] == ["arxiv", "hf"]
    assert merged["links"]["github"] == "https://github.com/x/y"
    assert merged["version"] == 1
    assert merged["first_seen"] == "2026-01-01T00:00:00Z"
    assert merged["last_seen"] == "2026-01-02T00:00:00Z"

    later = new_record("2405.12345v2", source="arxiv", upvotes=None, seen_at="2026-01-03T00:00:00Z",
                       updated="2024-06-01T00:00:00Z", categories=["stat.ML"])
    merged2 = merge_records(merged, later)
    assert merged2["upvotes"] == 12  # a sighting without upvotes keeps the known count
    assert merged2["version"] == 2
    assert merged2["categories"] == ["cs.LG", "cs.CL", "stat.ML"]
    assert merged2["updated"] == "2024-06-01T00:00:00Z"
    assert merged == merge_records(arxiv, hf)  # inputs untouched


def test_arxiv_is_the_authority_for_bibliographic_fields() -> None:
    arxiv = new_record("2405.12345v1", source="arxiv", title="The arXiv Title", abstract="arXiv abstract.",
                       authors=["A. Author", "B. Author"])
    hf = new_record("2405.12345", source="hf", title="The HF Title", abstract="HF summary.", authors=["A. Author"],
                    upvotes=40)
    merged = merge_records(arxiv, hf)
    assert (merged["title"], merged["abstract"], merged["authors"]) == (
        "The arXiv Title", "arXiv abstract.", ["A. Author", "B. Author"])
    assert merged["upvotes"] == 40
    assert merge_records(merged, hf) == merged  # a repeated HF sighting changes nothing
    # HF-only papers take HF's text; a later arXiv sighting replaces it.
    assert merge_records(hf, arxiv)["title"] == "The arXiv Title"
    assert merge_records(hf, hf)["title"] == "The HF Title"


UNSAFE = "\x00\x07\x08\x1b[31m\x1b]8;;https://evil.example\x07\x1b[0m\x7f\x85\x9b\u202e\u2066\u2069\u200f\u061c\r"


def test_outside_text_loses_nul_ansi_escapes_and_direction_overrides_at_ingest() -> None:
    record = new_record("2405.12345", source="hf", title=f"Sparse{UNSAFE} Autoencoders",
                        abstract=f"We\x00 train{UNSAFE}.", authors=[f"Ada{UNSAFE} Lovelace", UNSAFE],
                        keywords=[f"sae{UNSAFE}"], comment=f"10 pages{UNSAFE}", journal_ref=f"JMLR{UNSAFE}",
                        categories=[f"cs.LG{UNSAFE}"], primary_category=f"cs.LG{UNSAFE}",
                        doi=f"10.1/x{UNSAFE}", links={"github": f"https://github.com/a/b{UNSAFE}"})
    assert record["title"] == "Sparse Autoencoders"
    assert record["abstract"] == "We train."
    assert record["authors"] == ["Ada Lovelace"]
    assert record["keywords"] == ["sae"] and record["categories"] == ["cs.LG"]
    assert record["primary_category"] == "cs.LG" and record["doi"] == "10.1/x"
    assert (record["comment"], record["journal_ref"]) == ("10 pages", "JMLR")
    assert record["links"]["github"] == "https://github.com/a/b"


def test_printable_keeps_lines_tabs_and_every_script() -> None:
    assert printable(f"a\tb\nc{UNSAFE}d") == "a\tb\ncd"
    text = "Łukasz Kaiser · 深層学習 · تعلم · 👩‍🔬 · e\u0301"
    assert printable(text) == text and clean_text(text) == text


def test_outside_text_is_capped_at_ingest() -> None:
    record = new_record("2405.12345", source="hf", title="T" * 100_000, abstract="word " * 10_000,
                        authors=[f"Author {i} " + "x" * 1000 for i in range(5000)],
                        keywords=[f"k{i} " + "y" * 500 for i in range(1000)], comment="c" * 100_000,
                        journal_ref="j" * 100_000, categories=[f"cs.X{i}" for i in range(1000)],
                        doi="d" * 10_000)
    assert len(record["title"]) == MAX_TITLE_CHARS and record["title"].endswith("…")
    assert len(record["abstract"]) <= MAX_ABSTRACT_CHARS and record["abstract"].endswith("…")
    assert len(record["authors"]) == MAX_AUTHORS
    assert all(len(a) <= MAX_NAME_CHARS for a in record["authors"])
    assert len(record["keywords"]) == MAX_KEYWORDS and all(len(k) <= MAX_KEYWORD_CHARS for k in record["keywords"])
    assert len(record["categories"]) == MAX_CATEGORIES
    assert len(record["comment"] or "") <= MAX_NOTE_CHARS and len(record["journal_ref"] or "") <= MAX_NOTE_CHARS
    assert len(record["doi"] or "") <= MAX_NAME_CHARS
    short = new_record("2405.12345", source="hf", title="Short", abstract="Fine.", authors=["Ada"])
    assert (short["title"], short["abstract"], short["authors"]) == ("Short", "Fine.", ["Ada"])
