"""BibTeX export: arXiv-style @misc entries that BibTeX parses back to what the paper says."""

from __future__ import annotations

import random
import re

import pytest

from bot.bibtex import escape_latex, make_keys, paper_year, to_bibtex
from bot.papers import new_record


def parse_bib(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """(type, key, fields) per entry, reading braces the way BibTeX does: a backslash does NOT escape a
    brace, so an entry with `\\{` in a field never closes and this parser fails like BibTeX would."""
    entries = []
    pos = 0
    while (start := text.find("@", pos)) != -1:
        header = re.match(r"@(\w+)\{([^,\s]+),", text[start:])
        assert header, text[start:start + 80]
        kind, key = header.groups()
        i = start + header.end()
        fields: dict[str, str] = {}
        while True:
            field = re.match(r"\s*(\w+)=\{", text[i:])
            if not field:
                closing = re.match(r"\s*\}", text[i:])
                assert closing, f"entry {key} not closed: {text[i:i + 80]!r}"
                i += closing.end()
                break
            i += field.end()
            depth, value_start = 1, i
            while depth:
                assert i < len(text), f"unbalanced braces in {key}.{field.group(1)}"
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            fields[field.group(1)] = text[value_start:i - 1]
            comma = re.match(r"\s*,", text[i:])
            if comma:
                i += comma.end()
        entries.append((kind, key, fields))
        pos = i
    return entries


def paper(paper_id: str = "2405.12345", **overrides: object) -> dict:
    fields: dict = {"title": "Diffusion Transformers for\n  Long Video", "authors": ["Ada Lovelace", "Alan Turing"],
                    "published": "2024-05-16T17:59:59Z", "categories": ["cs.LG", "cs.CV"],
                    "primary_category": "cs.LG"}
    fields.update(overrides)
    return new_record(paper_id, source="arxiv", **fields)


def test_an_arxiv_style_entry() -> None:
    assert to_bibtex([paper()]) == (
        "@misc{lovelace2024diffusion,\n"
        "  title={Diffusion Transformers for Long Video},\n"
        "  author={Ada Lovelace and Alan Turing},\n"
        "  year={2024},\n"
        "  eprint={2405.12345},\n"
        "  archivePrefix={arXiv},\n"
        "  primaryClass={cs.LG},\n"
        "  url={https://arxiv.org/abs/2405.12345},\n"
        "}\n"
    )


def test_special_characters_are_escaped_and_braces_stay_balanced() -> None:
    hostile = r"100% of {GPUs} & $\alpha$_2 #1 ~x^2 \input{/etc/passwd} }}} {"
    bib = to_bibtex([paper(title=hostile, authors=["R&D {Team}", "O'Neil_X"])])
    [(kind, key, fields)] = parse_bib(bib)
    assert kind == "misc" and key == "team2024100"
    assert fields["title"] == (r"100\% of \textbraceleft{}GPUs\textbraceright{} \& \$\textbackslash{}alpha\$\_2 "
                               r"\#1 \textasciitilde{}x\textasciicircum{}2 \textbackslash{}input\textbraceleft{}"
                               r"/etc/passwd\textbraceright{} \textbraceright{}\textbraceright{}\textbraceright{} "
                               r"\textbraceleft{}")
    assert fields["author"] == r"R\&D \textbraceleft{}Team\textbraceright{} and O'Neil\_X"
    assert "\\input{" not in bib


def test_unicode_stays_and_keys_are_ascii() -> None:
    bib = to_bibtex([paper(title="Über Kölsch und 日本語 🚀", authors=["José Müller", "Zoë Ångström"])])
    [(_, key, fields)] = parse_bib(bib)
    assert key == "muller2024uber"
    assert fields["title"] == "Über Kölsch und 日本語 🚀"
    assert fields["author"] == "José Müller and Zoë Ångström"


def test_names_that_would_split_are_kept_whole() -> None:
    bib = to_bibtex([paper(authors=["Research and Development Team", "Smith, Jr., John", "Grace Hopper"])])
    [(_, _, fields)] = parse_bib(bib)
    assert fields["author"] == "{Research and Development Team} and {Smith, Jr., John} and Grace Hopper"


def test_keys_are_unique_and_do_not_depend_on_order() -> None:
    records = [paper("2405.00003"), paper("2405.00001"), paper("2405.00002"), paper("2406.00001", title="Other")]
    keys = make_keys(records)
    assert keys == {"2405.00001": "lovelace2024diffusion", "2405.00002": "lovelace2024diffusionb",
                    "2405.00003": "lovelace2024diffusionc", "2406.00001": "lovelace2024other"}
    shuffled = records[:]
    random.Random(1).shuffle(shuffled)
    assert make_keys(shuffled) == keys
    bib = to_bibtex(records)
    assert [k for _, k, _ in parse_bib(bib)] == ["lovelace2024diffusionc", "lovelace2024diffusion",
                                                "lovelace2024diffusionb", "lovelace2024other"]


def test_a_suffixed_key_never_takes_another_papers_plain_key() -> None:
    records = [paper("2405.00001", title="Diffusion"), paper("2405.00002", title="Diffusion"),
               paper("2405.00003", title="Diffusionb")]
    keys = make_keys(records)
    assert len(set(keys.values())) == 3
    assert keys["2405.00003"] == "lovelace2024diffusionb"


def test_keys_stay_short() -> None:
    [(_, key, _)] = parse_bib(to_bibtex([paper(title="x" * 2000, authors=["Y" * 500])]))
    assert key == "y" * 24 + "2024" + "x" * 24


def test_sparse_records_still_give_a_valid_entry() -> None:
    bib = to_bibtex([{"id": "2405.99999"}, {"id": "hep-th/9901001"}])
    entries = parse_bib(bib)
    assert [(k, f) for _, k, f in entries] == [
        ("anon2024", {"year": "2024", "eprint": "2405.99999", "archivePrefix": "arXiv",
                      "url": "https://arxiv.org/abs/2405.99999"}),
        ("anon1999", {"year": "1999", "eprint": "hep-th/9901001", "archivePrefix": "arXiv",
                      "url": "https://arxiv.org/abs/hep-th/9901001"}),
    ]


def test_duplicates_are_written_once_and_nothing_gives_nothing() -> None:
    assert len(parse_bib(to_bibtex([paper(), paper()]))) == 1
    assert to_bibtex([]) == ""


@pytest.mark.parametrize(("record", "year"), [
    ({"id": "2405.12345", "published": "2023-12-31T23:00:00Z"}, "2023"),
    ({"id": "2405.12345", "hf_date": "2024-06-01"}, "2024"),
    ({"id": "0704.0001"}, "2007"),
    ({"id": "math.GT/0309136"}, "2003"),
    ({"id": "hep-th/9108001"}, "1991"),
])
def test_year(record: dict, year: str) -> None:
    assert paper_year(record) == year


def test_escape_latex_flattens_control_characters() -> None:
    assert escape_latex("a\x00b\n\tc") == "a b c"


def test_a_doi_is_kept_verbatim_and_only_the_first_of_several() -> None:
    record = new_record("2401.00001", source="arxiv", title="T", authors=["A B"], published="2024-01-01T00:00:00Z")
    record["doi"] = "10.1000/abc_def%1 10.2000/other"
    entry = to_bibtex([record])
    assert "doi={10.1000/abc_def%1}," in entry and "10.2000" not in entry
