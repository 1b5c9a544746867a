"""Topics (bot/topics.py): how a typed topic is cleaned and when two topics are the same."""

from __future__ import annotations

import pytest

from bot.topics import normalize_topic, topic_key


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("  a   b ", "a b"), ("“quoted”", "quoted"), ("'x y'", "x y"), ('"unbalanced', '"unbalanced'),
     ("ctrl\x00\x07chars", "ctrlchars"), ("zero\u200bwidth", "zerowidth"), ("日本語  モデル", "日本語 モデル"),
     ('"diffusion" -"video"', '"diffusion" -"video"'), ('"a b" "c"', '"a b" "c"'), ('"a b"', "a b")],
)
def test_normalize_topic(raw: str, clean: str) -> None:
    assert normalize_topic(raw) == clean


def test_topics_are_the_same_whatever_the_case_spacing_or_quotes() -> None:
    assert topic_key("  Diffusion \n  Models ") == topic_key('"DIFFUSION   models"') == "diffusion models"
    assert topic_key("diffusion") != topic_key("diffusion models")
