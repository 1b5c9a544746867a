"""Parsing `/papers …` text (pure, fast): subcommands, bare searches, typos with "did you mean"."""

from __future__ import annotations

import pytest

from bot.slack.commands import ParsedCommand, from_slack, parse, suggest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ParsedCommand("help")),
        ("   \n\t ", ParsedCommand("help")),
        ("help", ParsedCommand("help")),
        ("HELP", ParsedCommand("help")),
        ("?", ParsedCommand("help")),
        ("search diffusion  models", ParsedCommand("search", "diffusion models")),
        ("find gan", ParsedCommand("search", "gan")),
        ("search", ParsedCommand("search", "")),
        ("diffusion models", ParsedCommand("search", "diffusion models", implicit=True)),
        ("Watch  LLM\u00a0agents", ParsedCommand("watch", "LLM agents")),
        ("unwatch 2", ParsedCommand("unwatch", "2")),
        ("topics", ParsedCommand("topics")),
        ("digest preview", ParsedCommand("digest", "preview")),
        ("digest", ParsedCommand("digest")),
        ("saved", ParsedCommand("saved")),
        ("unsave 2405.12345", ParsedCommand("unsave", "2405.12345")),
        ("export", ParsedCommand("export")),
        # typos of subcommands: help with a suggestion
        ("wtach diffusion", ParsedCommand("unknown", "diffusion", word="wtach", suggestion="watch")),
        ("serach gan", ParsedCommand("unknown", "gan", word="serach", suggestion="search")),
        ("unwach rl", ParsedCommand("unknown", "rl", word="unwach", suggestion="unwatch")),
        ("topcis", ParsedCommand("unknown", word="topcis", suggestion="topics")),
        ("hlep", ParsedCommand("unknown", word="hlep", suggestion="help")),
        ("digets preview", ParsedCommand("unknown", "preview", word="digets", suggestion="digest")),
        ("Exprot", ParsedCommand("unknown", word="Exprot", suggestion="export")),
    ],
)
def test_parse(text: str, expected: ParsedCommand) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "topic modeling",  # an inflection of "topics", not a typo
        "watching videos",
        "batch normalization",  # one letter from "watch", but a different first letter
        "expert systems",  # "export" takes no argument, so two words read as a search
        "unsafe code generation",
        "safe rl",
        "transformers",
        "gan",
        "x" * 10_000,
        "日本語 モデル",
        "<!channel>",
    ],
)
def test_search_words_are_not_mistaken_for_typos(text: str) -> None:
    parsed = parse(text)
    assert parsed.name == "search" and parsed.implicit
    assert parsed.args == " ".join(text.split())


def test_suggest_ignores_short_and_long_words() -> None:
    assert suggest("wa") is None
    assert suggest("w" * 13) is None
    assert suggest("watch") is None  # exact names are not typos


def test_from_slack_decodes_slacks_escaping_and_unwraps_links() -> None:
    assert from_slack("&lt;!channel&gt; &amp; more") == "<!channel> & more"
    assert from_slack("&amp;lt;") == "&lt;", "a literal '&lt;' typed by the user survives"
    assert from_slack("see <https://arxiv.org/abs/2405.12345|arxiv.org/abs/2405.12345>") == \
        "see https://arxiv.org/abs/2405.12345"
    assert from_slack("<https://hf.co/papers/2405.12345>") == "https://hf.co/papers/2405.12345"
    assert from_slack("<@U123|bob> <!here>") == "<@U123|bob> <!here>", "mentions stay literal (escaped on output)"
    assert from_slack(None) == ""
