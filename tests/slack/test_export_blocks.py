"""The export's fallback: BibTeX as code blocks within Slack's limits (pure, fast)."""

from __future__ import annotations

import re

from saved_papers import record
from slack_emulator import validate_message

from bot.bibtex import to_bibtex
from bot.slack import export_blocks as eb


def test_export_fallback_chunks_fit_slacks_limits_and_lose_nothing() -> None:
    records = [record(i, title=f"Paper {i} & <friends> " + "x" * 150, authors=[f"Author {j}" for j in range(30)])
               for i in range(60)]
    records.append(record(99, authors=[f"Member {j} of a huge collaboration" for j in range(400)]))
    bib = to_bibtex(records)
    messages = eb.export_fallback(bib, len(records), "missing_scope")
    assert 1 < len(messages) <= eb.EXPORT_MESSAGES
    code = []
    for message in messages:
        assert validate_message(message) == []
        for block in message["blocks"]:
            text = block["text"]["text"]
            if text.startswith("```"):
                code.append(text[3:-3])
    shown = "".join(code).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert shown == bib, "the pieces put together are exactly the BibTeX"
    assert "couldn't send you a file (missing_scope)" in messages[0]["blocks"][0]["text"]["text"]


def test_export_fallback_says_what_it_left_out() -> None:
    # One message section each: a title longer than ingest keeps (1,000), as a record stored earlier may hold.
    bib = to_bibtex([{**record(i), "title": "t" * 2000} for i in range(100)])
    messages = eb.export_fallback(bib, 100, "missing_scope")
    assert len(messages) == eb.EXPORT_MESSAGES
    intro = messages[0]["blocks"][0]["text"]["text"]
    match = re.search(r"about (\d+) entries are left out", intro)
    assert match and int(match.group(1)) == 100 - eb.EXPORT_MESSAGES * eb.SECTIONS_PER_MESSAGE
