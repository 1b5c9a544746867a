"""All Block Kit rendering: every message, ephemeral reply and view paperbot sends is built here.

Two rules hold for everything this module returns:

- Outside text (paper titles, abstracts, author names, queries, topics, search notes) goes through
  `escape_mrkdwn` exactly once, so `<!channel>`, `<@U…>` or `<url|text>` in it reach Slack inert.
- Every message passes through `message()` (or `view()`), which enforces Slack's size limits by truncating
  instead of letting Slack reject the post with `invalid_blocks` / `msg_too_long`, and always carries a
  plain-text `text` fallback for notifications and screen readers.

Lengths are counted in UTF-16 code units (as Slack's JavaScript does), so an emoji counts as two.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from bot.papers import abs_url, clean_text, pdf_url
from bot.slack.ids import is_user_id

# Slack's documented limits (see /work/shared/README.md).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
FIELD_TEXT = 2000
MAX_FIELDS = 10
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTON_URL = 3000
ID_LENGTH = 255
MESSAGE_TEXT = 40000

# Our own presentation budgets, well inside the limits.
TITLE_CHARS = 250
AUTHOR_CHARS = 60
AUTHORS_SHOWN = 3
RESULT_ABSTRACT_CHARS = 280
SHARED_ABSTRACT_CHARS = 900
QUERY_DISPLAY_CHARS = 150
TOPIC_DISPLAY_CHARS = 200

ACTION_SAVE = "paper_save"
ACTION_SHARE = "paper_share"
ACTION_PAGE_PREV = "search_page_prev"  # action ids must differ within a block
ACTION_PAGE_NEXT = "search_page_next"

ELLIPSIS = "…"

Block = dict[str, Any]
Message = dict[str, Any]


# --- text helpers -------------------------------------------------------------------------------------------


def escape_mrkdwn(text: object) -> str:
    """Escape outside text for mrkdwn: `&`, `<`, `>` and nothing else (Slack's rule)."""
    value = "" if text is None else str(text)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_len(text: str) -> int:
    """Length as Slack counts it: UTF-16 code units (characters outside the BMP count twice)."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _prefix(text: str, budget: int) -> str:
    """The longest prefix of `text` whose slack_len is at most `budget` (never half a surrogate pair)."""
    if budget <= 0:
        return ""
    if slack_len(text) <= budget:
        return text
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > budget:
            return text[:i]
    return text


def truncate_plain(text: str, limit: int) -> str:
    """Cut plain text to `limit` (Slack units), ending with an ellipsis when something was cut."""
    if slack_len(text) <= limit:
        return text
    return _prefix(text, limit - 1).rstrip() + ELLIPSIS


def truncate_words(text: str, limit: int) -> str:
    """Like `truncate_plain`, but prefers to stop at a word boundary near the cut."""
    if slack_len(text) <= limit:
        return text
    cut = _prefix(text, limit - 1)
    space = cut.rfind(" ")
    if space >= len(cut) * 0.7:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + ELLIPSIS


def truncate_mrkdwn(text: str, limit: int) -> str:
    """Cut already-escaped mrkdwn to `limit` without leaving half an entity (`&am`) or half a link (`<http…`)."""
    if slack_len(text) <= limit:
        return text
    cut = _prefix(text, limit - 1)
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt > cut.rfind(">"):
        cut = cut[:lt]
    return cut.rstrip() + ELLIPSIS


def safe_url(url: object) -> str | None:
    """An http(s) URL made safe to put inside `<url|label>`, or None if it is not one."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > BUTTON_URL or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def link(url: object, label: str) -> str:
    """`<url|label>` with the label escaped; just the escaped label when the URL is unusable."""
    target = safe_url(url)
    escaped = escape_mrkdwn(label)
    return f"<{target}|{escaped}>" if target else escaped


def mention(user_id: object) -> str:
    """`<@U…>` for a well-formed user id (ids come from Slack's signed payload); escaped text otherwise."""
    if isinstance(user_id, str) and is_user_id(user_id):
        return f"<@{user_id}>"
    return escape_mrkdwn(user_id)


def quoted(text: str, limit: int = QUERY_DISPLAY_CHARS) -> str:
    """Outside text shown in “curly quotes”, cut for display and escaped. A text that is itself one quoted
    phrase (a topic like `"mechanistic interpretability"`) keeps its own quotes instead of getting two pairs."""
    shown = escape_mrkdwn(truncate_plain(clean_text(text), limit))
    if len(shown) > 1 and shown[0] == shown[-1] == '"' and '"' not in shown[1:-1]:
        return shown
    return f"“{shown}”"


def code(text: str, limit: int = QUERY_DISPLAY_CHARS) -> str:
    """Outside text shown as inline code. Backticks would end the span early, so they become quotes."""
    inner = truncate_plain(clean_text(text).replace("`", "'"), limit)
    return f"`{escape_mrkdwn(inner)}`" if inner else ""


# --- block builders -----------------------------------------------------------------------------------------


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts if t]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, *, value: str | None = None, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text), "action_id": action_id}
    if value is not None:
        element["value"] = value
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


# --- limits -------------------------------------------------------------------------------------------------


def _clamp_text_object(obj: Any, limit: int) -> None:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return
    if obj.get("type") == "mrkdwn":
        obj["text"] = truncate_mrkdwn(obj["text"], limit)
    else:
        obj["text"] = truncate_plain(obj["text"], limit)


def _clamp_id(obj: dict[str, Any], key: str) -> None:
    value = obj.get(key)
    if isinstance(value, str) and slack_len(value) > ID_LENGTH:
        obj[key] = _prefix(value, ID_LENGTH)


def _clamp_element(element: Any) -> None:
    if not isinstance(element, dict):
        return
    _clamp_id(element, "action_id")
    if element.get("type") == "button":
        _clamp_text_object(element.get("text"), BUTTON_TEXT)
        if isinstance(element.get("value"), str) and slack_len(element["value"]) > BUTTON_VALUE:
            element["value"] = _prefix(element["value"], BUTTON_VALUE)
        if "url" in element and (not isinstance(element["url"], str) or slack_len(element["url"]) > BUTTON_URL):
            del element["url"]
    elif element.get("type") in ("mrkdwn", "plain_text"):
        _clamp_text_object(element, SECTION_TEXT)


def clamp_blocks(blocks: Sequence[Block], max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[Block]:
    """A copy of `blocks` cut to every Slack limit we know (the last line of defence: builders stay inside)."""
    result = [copy.deepcopy(dict(b)) for b in blocks]
    if len(result) > max_blocks:
        dropped = len(result) - (max_blocks - 1)
        result = [*result[: max_blocks - 1], context(f"_{dropped} more block(s) not shown._")]
    for block in result:
        _clamp_id(block, "block_id")
        kind = block.get("type")
        if kind == "section":
            _clamp_text_object(block.get("text"), SECTION_TEXT)
            if isinstance(block.get("fields"), list):
                block["fields"] = block["fields"][:MAX_FIELDS]
                for field in block["fields"]:
                    _clamp_text_object(field, FIELD_TEXT)
            _clamp_element(block.get("accessory"))
        elif kind == "header":
            _clamp_text_object(block.get("text"), HEADER_TEXT)
        elif kind == "context" and isinstance(block.get("elements"), list):
            block["elements"] = block["elements"][:CONTEXT_ELEMENTS]
            for element in block["elements"]:
                _clamp_element(element)
        elif kind == "actions" and isinstance(block.get("elements"), list):
            block["elements"] = block["elements"][:ACTIONS_ELEMENTS]
            for element in block["elements"]:
                _clamp_element(element)
    return result


def message(text: str, blocks: Sequence[Block] = (), *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> Message:
    """A message payload: escaped mrkdwn `text` (the fallback) plus limit-checked blocks."""
    fallback = truncate_mrkdwn(text.strip(), MESSAGE_TEXT) or "paperbot"
    payload: Message = {"text": fallback}
    if blocks:
        payload["blocks"] = clamp_blocks(blocks, max_blocks)
    return payload


def note(text: str) -> Message:
    """A one-section message; `text` is mrkdwn the caller built from escaped parts."""
    return message(text, [section(truncate_mrkdwn(text, SECTION_TEXT))])


# --- papers -------------------------------------------------------------------------------------------------


def paper_title(record: Mapping[str, Any]) -> str:
    return clean_text(record.get("title")) or f"arXiv:{record.get('id', '?')}"


def short_authors(authors: Iterable[Any] | None, shown: int = AUTHORS_SHOWN) -> str:
    """`A, B, C et al.` — the first `shown` names, each cut to a sane length."""
    names = [truncate_plain(clean_text(str(a)), AUTHOR_CHARS) for a in (authors or []) if clean_text(str(a))]
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + " et al."


def paper_date(record: Mapping[str, Any]) -> str | None:
    published = record.get("published")
    if isinstance(published, str) and len(published) >= 10:
        return published[:10]
    hf_date = record.get("hf_date")
    return hf_date if isinstance(hf_date, str) and hf_date else None


def paper_links(record: Mapping[str, Any]) -> dict[str, str]:
    """The paper's links by kind: abs and pdf always, hf / code / project when known."""
    links = record.get("links") if isinstance(record.get("links"), Mapping) else {}
    paper_id = str(record.get("id", ""))
    found = {"abs": links.get("abs") or abs_url(paper_id), "pdf": links.get("pdf") or pdf_url(paper_id)}
    for kind, key in (("hf", "hf"), ("code", "github"), ("project", "project")):
        if links.get(key):
            found[kind] = links[key]
    return found


def paper_text(record: Mapping[str, Any], *, abstract_chars: int = RESULT_ABSTRACT_CHARS) -> str:
    """The mrkdwn of one paper: linked title, authors · date · upvotes, links, trimmed abstract."""
    urls = paper_links(record)
    title = truncate_plain(paper_title(record), TITLE_CHARS)
    lines = [f"*{link(urls['abs'], title)}*"]
    meta = []
    authors = short_authors(record.get("authors"))
    if authors:
        meta.append(escape_mrkdwn(authors))
    date = paper_date(record)
    if date:
        meta.append(escape_mrkdwn(date))
    upvotes = record.get("upvotes")
    if isinstance(upvotes, int) and not isinstance(upvotes, bool):
        meta.append(f"{upvotes} upvote" + ("" if upvotes == 1 else "s"))
    if meta:
        lines.append(" · ".join(meta))
    labels = {"pdf": "PDF", "hf": "Hugging Face", "code": "Code", "project": "Project page"}
    lines.append(" · ".join(link(urls[kind], label) for kind, label in labels.items() if kind in urls))
    abstract = clean_text(record.get("abstract"))
    if abstract and abstract_chars > 0:
        lines.append(escape_mrkdwn(truncate_words(abstract, abstract_chars)))
    return truncate_mrkdwn("\n".join(lines), SECTION_TEXT)


def paper_fallback(record: Mapping[str, Any]) -> str:
    return escape_mrkdwn(truncate_plain(paper_title(record), TITLE_CHARS))


def paper_blocks(
    record: Mapping[str, Any], *, abstract_chars: int = RESULT_ABSTRACT_CHARS, share: bool = True
) -> list[Block]:
    """A section for the paper and an actions block with Save (and Share to channel)."""
    paper_id = str(record.get("id", ""))
    buttons = [button("Save", ACTION_SAVE, value=paper_id)]
    if share:
        buttons.append(button("Share to channel", ACTION_SHARE, value=paper_id))
    return [
        section(paper_text(record, abstract_chars=abstract_chars), block_id=f"paper:{paper_id}"),
        actions(*buttons, block_id=f"paper_actions:{paper_id}"),
    ]


# --- search -------------------------------------------------------------------------------------------------

_RESULT_BLOCKS = 3  # divider, section, actions
_FIXED_BLOCKS = 4  # summary, notes, navigation, footer


def page_value(query: str, offset: int) -> str | None:
    """The navigation button's value, or None when the query is too long to carry in one."""
    value = json.dumps({"q": query, "o": offset}, ensure_ascii=False)
    # Values are never rendered, but keep even them free of anything Slack could read as markup.
    value = value.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return value if slack_len(value) <= BUTTON_VALUE else None


def parse_page_value(value: str) -> tuple[str, int] | None:
    try:
        data = json.loads(value)
        query, offset = data["q"], data["o"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(query, str) or not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        return None
    return query, offset


def search_results(page: Any, *, command: str) -> Message:
    """Render a `SearchPage` (query, hits, total, offset, limit, notes) as an ephemeral result list."""
    query = str(page.query)
    shown_query = quoted(query)
    notes = [escape_mrkdwn(truncate_plain(str(n), 300)) for n in (page.notes or []) if str(n).strip()]
    if not page.hits:
        text = f"No papers match {shown_query}."
        blocks = [section(f"{text}\nTry fewer or different words, or paste an arXiv id or link.")]
        if notes:
            blocks.append(context(*notes[:CONTEXT_ELEMENTS]))
        return message(text, blocks)

    room = (MAX_MESSAGE_BLOCKS - _FIXED_BLOCKS) // _RESULT_BLOCKS
    hits = list(page.hits)[:room]
    first, last = page.offset + 1, page.offset + len(hits)
    total = max(int(page.total), last)
    count, verb = (f"{total} papers", "match") if total != 1 else ("1 paper", "matches")
    showing = f" (showing {first}–{last})" if total > len(hits) else ""
    blocks: list[Block] = [section(f"*{count}* {verb} {shown_query}{showing}")]
    if notes:
        blocks.append(context(*notes[:CONTEXT_ELEMENTS]))
    for hit in hits:
        blocks.append(divider())
        blocks.extend(paper_blocks(hit.paper))

    nav = []
    size = max(int(page.limit or len(hits)), 1)
    if page.offset > 0 and (value := page_value(query, max(page.offset - size, 0))):
        nav.append(button("Previous", ACTION_PAGE_PREV, value=value))
    if last < total and (value := page_value(query, last)):
        nav.append(button(f"Next {min(size, total - last)}", ACTION_PAGE_NEXT, value=value))
    if nav:
        blocks.append(actions(*nav, block_id="search_nav"))
    blocks.append(context(f"Only you can see these results. *Share to channel* posts a paper for everyone. "
                          f"More: {code(command + ' help')}"))
    titles = "; ".join(paper_fallback(hit.paper) for hit in hits)
    return message(f"{count} {verb} {shown_query}{showing}: {titles}", blocks)


def search_usage(command: str) -> Message:
    return note(f"Tell me what to look for, for example {code(command + ' search diffusion transformers')} "
                f"or {code(command + ' 2405.12345')}.")


def query_problem(problem: str, command: str) -> Message:
    """The search core refused the query; `problem` is its friendly message (outside text: escaped)."""
    return note(f"{escape_mrkdwn(truncate_plain(clean_text(problem), 500))}\n"
                f"For example: {code(command + ' search diffusion transformers')}")


# --- help ---------------------------------------------------------------------------------------------------

# (usage, description, available now)
_HELP_LINES: tuple[tuple[str, str], ...] = (
    ("<words>", "search the paper archive (only you see the results)"),
    ("search <words>", "the same, when your words start like a subcommand"),
    ("watch <topic>", "add a topic to this channel's digest"),
    ("unwatch <topic>", "remove a topic (or its number from `topics`)"),
    ("topics", "list the topics this channel watches, with how many recent papers each matched"),
    ("schedule [09:00] [Europe/Berlin] [weekdays] [max 10]", "when the daily digest posts (`schedule off` stops it)"),
    ("sources [hf] [cs.LG …]", "Hugging Face Daily Papers and/or arXiv categories for the digest"),
    ("digest", "post today's digest now"),
    ("digest preview", "what the digest would contain (only you see it)"),
    ("saved [page]", "your reading list (a paper's Save button or save-emoji reaction adds it)"),
    ("unsave <paper>", "remove a paper from your reading list"),
    ("top [week|month|all]", "the team's most-saved papers"),
    ("export [saved|channel|topic <topic>]", "BibTeX of your reading list, this channel's papers or a topic"),
    ("help", "this message"),
)


def help_blocks(command: str, *, admins: frozenset[str] = frozenset()) -> list[Block]:
    lines = []
    for usage, description in _HELP_LINES:
        lines.append(f"• {code(command + ' ' + usage)} — {description}")
    blocks = [
        section("*paperbot* finds research papers and keeps this channel's reading up to date."),
        section("\n".join(lines)),
    ]
    if admins:
        who = ", ".join(mention(a) for a in sorted(admins)[:10])
        blocks.append(context(f"Only paperbot admins ({who}) can change this channel's topics."))
    return blocks


def help_message(command: str, *, admins: frozenset[str] = frozenset(), intro: str | None = None) -> Message:
    blocks = help_blocks(command, admins=admins)
    if intro:
        blocks.insert(0, section(intro))
    summary = escape_mrkdwn(f"paperbot: {command} <words> searches papers, {command} watch <topic> follows a "
                            f"topic here, {command} topics lists them.")
    text = f"{intro}\n{summary}" if intro else summary
    return message(text, blocks)


def unknown_subcommand(command: str, word: str, suggestion: str, args: str,
                       *, admins: frozenset[str] = frozenset()) -> Message:
    """Help for a mistyped subcommand, with a "did you mean" and the way to search for the words instead."""
    meant = f"{command} {suggestion}" + (f" {args}" if args else "")
    as_search = f"{command} search {word}" + (f" {args}" if args else "")
    intro = (f"I don't know {code(command + ' ' + word)}. Did you mean {code(meant)}?\n"
             f"To search for those words instead: {code(as_search)}")
    return help_message(command, admins=admins, intro=intro)


# --- topics -------------------------------------------------------------------------------------------------


def _numbered(topics: Sequence[str]) -> str:
    return "\n".join(f"{i}. {escape_mrkdwn(truncate_plain(t, TOPIC_DISPLAY_CHARS))}" for i, t in enumerate(topics, 1))


def topics_list(topics: Sequence[str], command: str, *, may_configure: bool = True) -> Message:
    if not topics:
        text = "This channel doesn't watch any topics yet."
        hint = f"Add one with {code(command + ' watch diffusion models')}." if may_configure else ""
        return note(f"{text} {hint}".strip())
    count = f"{len(topics)} topic" + ("" if len(topics) == 1 else "s")
    blocks = [section(f"*This channel watches {count}:*\n{_numbered(topics)}")]
    if may_configure:
        blocks.append(context(f"Add: {code(command + ' watch <topic>')} · remove: "
                              f"{code(command + ' unwatch <topic or number>')}"))
    return message(f"This channel watches {count}: " + "; ".join(escape_mrkdwn(t) for t in topics), blocks)


def topic_added(user_id: str, topic: str, topics: Sequence[str]) -> Message:
    text = f"{mention(user_id)} added {quoted(topic, TOPIC_DISPLAY_CHARS)} to this channel's topics."
    return message(text, [section(text), context(f"Now watching {len(topics)}: " + "; ".join(
        escape_mrkdwn(truncate_plain(t, 60)) for t in topics))])


def topic_already_watched(topic: str) -> Message:
    return note(f"This channel already watches {quoted(topic, TOPIC_DISPLAY_CHARS)}.")


def topic_removed(user_id: str, topic: str, topics: Sequence[str]) -> Message:
    text = f"{mention(user_id)} removed {quoted(topic, TOPIC_DISPLAY_CHARS)} from this channel's topics."
    rest = ("Still watching: " + "; ".join(escape_mrkdwn(truncate_plain(t, 60)) for t in topics)) if topics \
        else "This channel watches no topics now."
    return message(text, [section(text), context(rest)])


def topic_not_watched(topic: str, topics: Sequence[str], command: str) -> Message:
    text = f"This channel doesn't watch {quoted(topic, TOPIC_DISPLAY_CHARS)}."
    if topics:
        return note(f"{text} Its topics:\n{_numbered(topics)}")
    return note(f"{text} It watches no topics yet; add one with {code(command + ' watch <topic>')}.")


def topic_problem(reason: str, command: str, *, limit: int = 0) -> Message:
    """Why a topic was refused: `empty`, `too_long` or `too_many` (see bot.channels.TopicError)."""
    if reason == "empty":
        return note(f"Tell me which topic to watch, for example {code(command + ' watch diffusion models')}.")
    if reason == "empty_unwatch":
        return note(f"Tell me which topic to remove, for example {code(command + ' unwatch diffusion models')}, "
                    f"or its number from {code(command + ' topics')}.")
    if reason == "too_long":
        return note(f"That topic is too long: keep it under {limit} characters, a few keywords work best.")
    if reason == "too_many":
        return note(f"This channel already watches {limit} topics, the most it can have. "
                    f"Remove one first with {code(command + ' unwatch <topic>')}.")
    return note("That topic can't be used.")


def not_allowed(command: str, admins: frozenset[str], *, what: str = "change this channel's topics",
                still: Sequence[str] = ("topics",)) -> Message:
    """The user is not in PAPERBOT_ADMINS: who is, and what they can still look at."""
    who = ", ".join(mention(a) for a in sorted(admins)[:10])
    looks = ", ".join(code(command + " " + s) for s in still)
    return note(f"Sorry, only paperbot admins ({who}) can {what}. You can still look: {looks}.")


# --- sharing, errors ----------------------------------------------------------------------------------------

def shared_paper(record: Mapping[str, Any], user_id: str) -> Message:
    """The visible channel post for a shared paper; it keeps a Save button so everyone can save it."""
    blocks = paper_blocks(record, abstract_chars=SHARED_ABSTRACT_CHARS, share=False)
    blocks.append(context(f"Shared by {mention(user_id)} with paperbot"))
    return message(f"{mention(user_id)} shared {paper_fallback(record)}", blocks)


_SHARE_PROBLEMS = {
    "not_in_channel": "I can't post here because I'm not a member of this channel. "
                      "Invite me with `/invite @paperbot` and try again.",
    "channel_not_found": "I can't post here: this is a private channel or conversation I'm not part of. "
                         "Invite me with `/invite @paperbot` and try again.",
    "is_archived": "I can't post here because this channel is archived.",
    "restricted_action": "This workspace doesn't allow me to post in this channel.",
    "ratelimited": "Slack is asking me to slow down. Please try again in a minute.",
}


def share_failed(error: str) -> Message:
    return note(_SHARE_PROBLEMS.get(error, "I couldn't post the paper to this channel."))


def share_repeated() -> Message:
    return note("You shared this paper here a moment ago.")


def paper_missing() -> Message:
    return note("I can't find that paper in the archive any more.")


def apology(ref: str) -> Message:
    return note(f"Sorry, something went wrong on my side (ref {escape_mrkdwn(ref)}). Please try again; "
                "if it keeps happening, tell whoever runs paperbot and quote the reference.")


def line_sections(lines: Sequence[str]) -> list[Block]:
    """Lines of mrkdwn as few sections as Slack's 3,000-character limit allows: split a list, never cut it."""
    sections: list[Block] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and slack_len("\n".join([*chunk, line])) > SECTION_TEXT - 50:
            sections.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        sections.append(section("\n".join(chunk)))
    return sections
