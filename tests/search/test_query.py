"""The query language: words, phrases, exclusions, filters, and friendly refusals."""

from __future__ import annotations

from datetime import date

import pytest

from bot.search import MAX_QUERY_CHARS, QueryError
from bot.search.query import MAX_WORDS, ParsedQuery, parse_query

TODAY = date(2025, 3, 15)


def parse(text: str) -> ParsedQuery:
    return parse_query(text, today=TODAY)


def test_plain_words_and_typed_order() -> None:
    q = parse("Sparse AUTOENCODERS the steering")
    assert [w.text for w in q.words] == ["sparse", "autoencoders", "steering"]
    assert q.ignored == ["the"]
    assert q.sequence == ["sparse", "autoencoders", "the", "steering"]


def test_hyphenated_word_stays_one_word_with_parts() -> None:
    (word,) = parse("auto-encoders").words
    assert word.parts == ["auto", "encoders"] and word.joined == "autoencoders"


def test_quoted_phrase_unclosed_quote_and_smart_quotes() -> None:
    q = parse('“attention is all you need” x "open phrase')
    assert [p.words for p in q.phrases] == [["attention", "is", "all", "you", "need"], ["open", "phrase"]]
    assert [w.text for w in q.words] == ["x"]


def test_quoted_single_word_is_exact() -> None:
    (word,) = parse('"chinchilla"').words
    assert word.exact


def test_exclusions_of_words_and_phrases() -> None:
    q = parse('diffusion -gan -"style transfer"')
    assert [w.text for w in q.words] == ["diffusion"]
    assert [w.text for w in q.excluded_words] == ["gan"]
    assert [p.words for p in q.excluded_phrases] == [["style", "transfer"]]


def test_filters() -> None:
    q = parse('author:"Yann LeCun" -author:smith since:2024-02 until:2024 has:code -has:project cat:cs.LG')
    assert q.authors == [(["yann", "lecun"], False), (["smith"], True)]
    assert (q.date_from, q.date_to) == (20240201, 20241231)
    assert q.has == [("code", False), ("project", True)]
    assert q.categories == [("cslg", False)]
    assert not q.words


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("year:2024", 20240101, 20241231), ("year:2022..2024", 20220101, 20241231), ("since:2025-01-15", 20250115, None),
     ("until:2023-06", None, 20230631), ("since:30d", 20250213, None), ("since:2w", 20250301, None),
     ("since:2024 since:2023", 20240101, None)],
)
def test_dates(text: str, low: int | None, high: int | None) -> None:
    q = parse(text)
    assert (q.date_from, q.date_to) == (low, high)


def test_saved_and_channel_forms() -> None:
    q = parse("saved:me saved:<@U0123ABC> channel:#ml-papers channel:<#C0123ABCD|general> channel:here")
    assert q.saved == [(None, False), ("U0123ABC", False)]
    assert q.channels == [("ml-papers", False), ("C0123ABCD", False), (None, False)]


def test_unknown_key_is_plain_text_and_ids_are_recognised() -> None:
    q = parse("note:important arXiv:2203.15556 https://huggingface.co/papers/2305.18290v2")
    assert [w.text for w in q.words] == ["note", "important"]
    assert q.ids == ["2203.15556", "2305.18290"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Type some words"),
        ("   ", "Type some words"),
        ("the of and", "too common"),
        ("-gan -diffusion", "only removes"),
        ("since:yesterday", "a date looks like"),
        ("since:2024-13", "not a real date"),
        ("year:24", "a year looks like"),
        ("has:pizza", "has:code"),
        ("author:", "needs a value"),
        ("author:-", "needs a name"),
        ("-since:2024", "can't be negated"),
        ("saved:bob", "saved:me"),
        ("x" * (MAX_QUERY_CHARS + 1), "characters long"),
    ],
)
def test_bad_queries_get_one_friendly_sentence(text: str, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message and len(message) < 200


def test_a_pasted_paragraph_is_cut_with_a_note() -> None:
    q = parse(" ".join(f"word{i}" for i in range(60)))
    assert len(q.words) == MAX_WORDS
    assert any("first" in n for n in q.notes)


def test_filters_alone_are_a_valid_query() -> None:
    q = parse("author:hinton has:code")
    assert not q.has_terms and q.has_filters
