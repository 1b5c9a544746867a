"""What saving tells the user (pure, fast): confirmations name the paper; outside text stays inert."""

from __future__ import annotations

import json

from saved_papers import INJECTED, inert, record, save

from bot.bibtex import to_bibtex
from bot.slack import export_blocks as eb
from bot.slack import reading_list_blocks as rl
from bot.slack import save_blocks as sb
from bot.store.models import TopPaper


def test_confirmation_names_the_paper_and_the_list_command() -> None:
    message = sb.saved([record(title="Attention Sinks")], "/papers")
    assert message["text"] == ("Saved *<https://arxiv.org/abs/2405.00001|Attention Sinks>* — "
                               "`/papers saved` to see your list")
    several = sb.saved([record(1), record(2)], "/papers", missing=["2405.99999"])
    assert several["text"].startswith("Saved 2 papers: *<https://arxiv.org/abs/2405.00001|Paper 1>*; ")
    assert "I couldn't find `2405.99999` on arXiv or Hugging Face, so I didn't save it." in several["text"]


def test_outside_text_is_inert_everywhere() -> None:
    bad = record(title=INJECTED, authors=[INJECTED])
    for message in (sb.saved([bad], "/papers"), sb.already_saved(bad, "/papers"), sb.unsaved(bad),
                    sb.kept(bad, save()),
                    rl.reading_list([(save(), bad)], page=0, total=1, command="/papers"),
                    rl.top_list([(TopPaper("2405.00001", ("U0ALICE", "U0BOB"), "x"), bad)], "week", "/papers"),
                    *eb.export_fallback(to_bibtex([bad]), 1, "missing_scope")):
        inert(message)
    assert "&lt;!channel&gt; Free GPUs" in json.dumps(sb.saved([bad], "/papers"))
