"""Render the digest example shown in the README with the real Block Kit code (bot/slack/digest_blocks.py).

    .venv/bin/python docs/digest_example.py > docs/digest-example.json

tests/test_docs.py checks that the committed JSON is what the code renders today.
"""

from __future__ import annotations

import json
import sys
from datetime import date, time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.digest.schedule import Schedule
from bot.digest.selection import Pick
from bot.digest.settings import ChannelDigest
from bot.papers import new_record
from bot.slack.digest_blocks import digest_header, digest_paper

DAY = date(2025, 6, 3)


def example() -> dict[str, Any]:
    papers = [
        new_record("2506.01234", source="hf",
                   title="Sparse Autoencoders Learn Monosemantic Features in Vision Transformers",
                   abstract="We train sparse autoencoders on the residual stream of ViTs and find thousands of "
                            "interpretable features, including <!channel>-like strings that are escaped, not pinged.",
                   authors=["Ada Lovelace", "Alan Turing", "Grace Hopper"], published="2025-06-02T17:00:00Z",
                   upvotes=42, links={"github": "https://github.com/example/vit-sae"}),
        new_record("2506.04321", source="arxiv", title="Steering Language Models with Dictionary Features",
                   abstract="Clamping features found by dictionary learning steers generation.",
                   authors=["Chris Olah"], published="2025-06-02T09:00:00Z"),
    ]
    channel = ChannelDigest(channel="C0MLPAPERS", topics=("sparse autoencoders", '"mechanistic interpretability"'),
                            schedule=Schedule(time(9, 0), "Europe/Berlin"))
    picks = [Pick(papers[0]["id"], 0.93, "sparse autoencoders",
                  "“sparse autoencoders”: sparse, autoencoders; close in meaning"),
             Pick(papers[1]["id"], 0.41, "sparse autoencoders",
                  "“sparse autoencoders”: close in meaning · similar to papers this channel saved")]
    items = list(zip(papers, picks, strict=True))
    return {"header (channel message)": digest_header(channel, DAY, items, command="/papers"),
            "paper 1 (thread reply)": digest_paper(papers[0], picks[0], 1, len(papers))}


if __name__ == "__main__":
    print(json.dumps(example(), indent=2, ensure_ascii=False))
