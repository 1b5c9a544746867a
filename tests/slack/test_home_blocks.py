"""The App Home tab's sections (pure, fast)."""

from __future__ import annotations

from saved_papers import INJECTED

from bot.slack import home_blocks as hb


def test_home_topics_and_saves() -> None:
    blocks = hb.home_topics({"C0GENERAL": ["diffusion", INJECTED], "G0PRIVATE": ["rl"]}, "/papers")
    text = blocks[0]["text"]["text"]
    assert "• <#C0GENERAL>: diffusion; &lt;!channel&gt; Free GPUs" in text and "• <#G0PRIVATE>: rl" in text
    assert "none yet" in hb.home_topics({}, "/papers")[0]["text"]["text"]
    assert "is empty" in hb.home_saves([], 0, "/papers")[0]["text"]["text"]
