"""How one paper looks in any message (pure, fast): title, authors, date, links, abstract."""

from __future__ import annotations

from block_checks import paper
from slack_emulator import utf16_len

from bot.slack import paper_card as pc


def test_paper_text_has_linked_title_authors_date_upvotes_links_and_trimmed_abstract() -> None:
    record = paper(7, authors=["A", "B", "C", "D", "E"], abstract="word " * 500)
    text = pc.paper_text(record)
    lines = text.split("\n")
    assert lines[0] == "*<https://arxiv.org/abs/2405.00007|Paper 7: diffusion>*"
    assert lines[1] == "A, B, C et al. · 2024-05-02 · 42 upvotes"
    assert lines[2] == ("<https://arxiv.org/pdf/2405.00007|PDF> · <https://huggingface.co/papers/2405.00007|"
                        "Hugging Face> · <https://github.com/o/r|Code>")
    assert lines[3].endswith("…") and utf16_len(lines[3]) <= pc.RESULT_ABSTRACT_CHARS


def test_paper_text_with_only_an_id_and_title() -> None:
    record = {"id": "hep-th/9901001", "title": "Old paper"}
    assert pc.paper_text(record) == ("*<https://arxiv.org/abs/hep-th/9901001|Old paper>*\n"
                                    "<https://arxiv.org/pdf/hep-th/9901001|PDF>")
    assert pc.paper_text({"id": "2405.00001", "title": ""}).startswith("*<https://arxiv.org/abs/2405.00001|arXiv:2405")
