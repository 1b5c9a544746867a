"""`/papers …`: parse the text into a subcommand (pure: no Slack, no I/O) and dispatch it through the registry.

Parsing:

- Empty text is `help`.
- A known first word selects that subcommand (`digest preview` is `digest` with args `preview`).
- A first word that looks like a typo of a subcommand (`wtach`, `serach`) is `unknown`, with a suggestion:
  the reply is help plus "did you mean", and the way to search for the words instead.
- Anything else is a search for the whole text (`/papers diffusion models`).

Telling a typo from a search word: same first letter, a small Damerau-Levenshtein distance, not an
inflection of the name (`topic`, `watching` are search words), and the remaining words fit what the
subcommand takes (`expert systems` is a search, since `export` takes no argument).

Dispatch: the command is acked at once (app.py); the lazy work learns the channel's name, parses, refuses
admin-only subcommands to others, runs the handler a feature bound in the registry, and answers through the
response URL, inside `guarded` (one log line, an apology with a reference on an exception).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import OSA
from slack_bolt import App

from bot.config import Settings
from bot.slack import blocks
from bot.slack.channel_names import ChannelNames
from bot.slack.help import help_message, unknown_subcommand
from bot.slack.plumbing import EPHEMERAL, Answer, ack_now, guarded, responder
from bot.slack.registry import REGISTRY, Access, Invocation, Registry

_INFLECTIONS = ("s", "es", "ing", "ed", "er", "d")
_MAX_TYPO_WORD = 12
_LINK_RE = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class ParsedCommand:
    name: str  # a registry subcommand name, or "unknown"
    args: str = ""  # the rest of the text, whitespace-normalised
    word: str = ""  # the first word as typed (for "unknown")
    suggestion: str | None = None  # the subcommand an unknown word probably meant
    implicit: bool = False  # a search without the word "search"


def from_slack(text: str | None) -> str:
    """Plain text from Slack's formatted text: links unwrapped, `&lt;` `&gt;` `&amp;` decoded.

    Slack escapes those three characters in the text it sends; decoding them gives what the user typed
    (rendering escapes again). Mentions such as `<@U1|bob>` or `<!channel>` stay as they are, literal text.
    """
    value = _LINK_RE.sub(r"\1", text or "")
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _is_inflection(word: str, name: str) -> bool:
    return any(word == name + end or name == word + end for end in _INFLECTIONS)


def suggest(word: str, rest_words: int = 0) -> str | None:
    """The subcommand `word` is probably a typo of, or None when it reads as a search word."""
    word = word.casefold()
    if not 3 <= len(word) <= _MAX_TYPO_WORD or REGISTRY.resolve(word) is not None:
        return None
    best: tuple[int, str] | None = None
    for subcommand in REGISTRY:
        name, max_words = subcommand.name, subcommand.max_words
        if word[0] != name[0] or _is_inflection(word, name):
            continue
        if max_words is not None and rest_words > max_words:
            continue
        allowed = 1 if len(name) <= 5 else 2
        distance = OSA.distance(word, name, score_cutoff=allowed)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, name)
    return best[1] if best else None


def parse(text: str | None) -> ParsedCommand:
    words = (text or "").split()
    if not words:
        return ParsedCommand("help")
    first, rest = words[0], " ".join(words[1:])
    name = REGISTRY.resolve(first.casefold())
    if name is not None:
        return ParsedCommand(name, rest)
    suggestion = suggest(first, len(words) - 1)
    if suggestion is not None:
        return ParsedCommand("unknown", rest, word=first, suggestion=suggestion)
    return ParsedCommand("search", " ".join(words), implicit=True)


class CommandRouter:
    """Answers `/papers …` with the handlers the features bound in `registry`."""

    def __init__(self, settings: Settings, channel_names: ChannelNames) -> None:
        self.settings = settings
        self.command_name = settings.command
        self.admins = settings.admins
        self.channel_names = channel_names
        self.registry = Registry()
        self.registry.bind("help", lambda _: (help_message(self.command_name, admins=self.admins), EPHEMERAL))

    def may_configure(self, user_id: str) -> bool:
        return not self.admins or user_id in self.admins

    def command(self, body: dict[str, Any]) -> None:
        reply = responder(body, self.settings.http_timeout)
        user, channel = str(body.get("user_id", "")), str(body.get("channel_id", ""))
        self.channel_names.learn(channel, body.get("channel_name"))
        with guarded("slack.command", reply, user=user, channel=channel, sub="?") as outcome:
            parsed = parse(from_slack(body.get("text")))
            outcome.fields["sub"] = parsed.name
            answer = self.dispatch(parsed, user, channel, reply, outcome.fields)
            if answer is not None:
                payload, response_type = answer
                reply(payload, response_type=response_type)

    def dispatch(self, parsed: ParsedCommand, user: str, channel: str, reply: Any,
                 fields: dict[str, Any]) -> Answer | None:
        """The reply to one subcommand and whether the channel sees it (None: the handler answered)."""
        if parsed.name == "unknown":
            assert parsed.suggestion is not None
            return unknown_subcommand(self.command_name, parsed.word, parsed.suggestion, parsed.args,
                                      admins=self.admins), EPHEMERAL
        may_configure = self.may_configure(user)
        if self.registry.get(parsed.name).access is Access.ADMINS and not may_configure:
            fields["refused"] = "not_admin"
            return blocks.not_allowed(self.command_name, self.admins), EPHEMERAL
        invocation = Invocation(parsed.name, parsed.args, user, channel, reply, may_configure, fields)
        return self.registry.handler(parsed.name)(invocation)


def register(app: App, settings: Settings, channel_names: ChannelNames) -> CommandRouter:
    """The `/papers` listener; features then bind their subcommands to the returned router's registry."""
    router = CommandRouter(settings, channel_names)

    def on_command(body: dict[str, Any]) -> None:
        router.command(body)

    app.command(settings.command)(ack=ack_now, lazy=[on_command])
    return router
