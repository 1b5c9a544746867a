"""Block Kit basics every feature's renderers build on: escaping, Slack's limits, block builders, `message()`.

Two rules hold for everything paperbot sends:

- Outside text (paper titles, abstracts, author names, queries, topics, search notes) goes through
  `escape_mrkdwn` exactly once, so `<!channel>`, `<@U…>` or `<url|text>` in it reach Slack inert.
- Every message passes through `message()` (or `clamp_blocks()` for a view), which enforces Slack's size
  limits by truncating instead of letting Slack reject the post with `invalid_blocks` / `msg_too_long`, and
  always carries a plain-text `text` fallback for notifications and screen readers.

Lengths are counted in UTF-16 code units (as Slack's JavaScript does), so an emoji counts as two.
The renderers of each feature sit next to it (search_blocks.py, topics_blocks.py, digest_blocks.py, …).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from bot.papers import clean_text
from bot.slack.ids import is_channel_id, is_user_id

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

QUERY_DISPLAY_CHARS = 150

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



def channel_ref(channel_id: str | None) -> str:
    """`<#C…>` for a well-formed channel id (renders as the channel's name), escaped text otherwise."""
    if channel_id and is_channel_id(channel_id) and not channel_id.startswith("D"):
        return f"<#{channel_id}>"
    return "a direct message" if channel_id and channel_id.startswith("D") else "Slack"


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


def n_papers(n: int) -> str:
    return f"{n} paper" + ("" if n == 1 else "s")


def emoji(name: str) -> str:
    """`:name:` for an emoji name from the configuration (PAPERBOT_SAVE_EMOJI), which is trusted but escaped."""
    return f":{escape_mrkdwn(name)}:"


def apology(ref: str) -> Message:
    return note(f"Sorry, something went wrong on my side (ref {escape_mrkdwn(ref)}). Please try again; "
                "if it keeps happening, tell whoever runs paperbot and quote the reference.")


def button_expired() -> Message:
    return note("That button no longer works; please search again.")


def not_allowed(command: str, admins: frozenset[str], *, what: str = "change this channel's topics",
                still: Sequence[str] = ("topics",)) -> Message:
    """The user is not in PAPERBOT_ADMINS: who is, and what they can still look at."""
    who = ", ".join(mention(a) for a in sorted(admins)[:10])
    looks = ", ".join(code(command + " " + s) for s in still)
    return note(f"Sorry, only paperbot admins ({who}) can {what}. You can still look: {looks}.")


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
