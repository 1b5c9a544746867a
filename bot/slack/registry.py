"""The `/papers` subcommands: one table that parsing, dispatch, the help text and the checks of the README
and the Slack manifests all read.

Each entry says what a subcommand is called (and its aliases), how many words it takes (which tells a typo of
it from a search, see commands.py), how the help text shows it, and who may run it. The table is static, so
tests and the help text can read it without an app; each feature binds its handler to its entries when it
registers with a Bolt app (`Registry.bind`), and `create_app` checks that every entry got one.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.slack.plumbing import Answer, Responder


class Access(enum.Enum):
    EVERYONE = "everyone"
    ADMINS = "admins"  # PAPERBOT_ADMINS only, when that is set (refused before the handler runs)
    ADMINS_TO_CHANGE = "admins_to_change"  # everyone may look; the handler refuses changes by others


@dataclass
class Invocation:
    """One `/papers …` request as a handler sees it. `fields` go into the command's log line."""

    name: str
    args: str
    user: str
    channel: str
    reply: Responder
    may_configure: bool
    fields: dict[str, Any] = field(default_factory=dict)


# A handler returns the reply and whether the channel sees it, or None when it answered through `reply`
# itself (an export can take several messages).
Handler = Callable[[Invocation], "Answer | None"]


@dataclass(frozen=True)
class Subcommand:
    name: str
    max_words: int | None  # the most words it takes after the name (None: any number)
    help: tuple[tuple[str, str], ...]  # (usage after the command name, what it does), in help order
    access: Access = Access.EVERYONE
    aliases: tuple[str, ...] = ()


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("search", None, (("<words>", "search the paper archive (only you see the results)"),
                                ("search <words>", "the same, when your words start like a subcommand")),
               aliases=("find",)),
    Subcommand("watch", None, (("watch <topic>", "add a topic to this channel's digest"),), access=Access.ADMINS),
    Subcommand("unwatch", None, (("unwatch <topic>", "remove a topic (or its number from `topics`)"),),
               access=Access.ADMINS),
    # It takes more (`topics try diffusion`), but a typo of it followed by words must stay a search.
    Subcommand("topics", 0, (("topics", "list the topics this channel watches, with how many recent papers each "
                                        "matched"),
                             ("topics try <topic>", "what a topic would have matched over the last 30 days, "
                                                    "before watching it (changes nothing)"))),
    Subcommand("schedule", None, (("schedule [09:00] [Europe/Berlin] [weekdays] [max 10]",
                                   "when the daily digest posts (`schedule off` stops it)"),
                                  ("schedule strict|normal|broad|min 0.6",
                                   "how closely papers must match: a quiet day posts fewer papers, `max` stays "
                                   "the cap"),),
               access=Access.ADMINS_TO_CHANGE),
    Subcommand("sources", None, (("sources [hf] [cs.LG …]",
                                  "Hugging Face Daily Papers and/or arXiv categories for the digest"),),
               access=Access.ADMINS_TO_CHANGE),
    Subcommand("digest", 1, (("digest", "post today's digest now"),
                             ("digest preview", "what the digest would contain (only you see it)")),
               access=Access.ADMINS_TO_CHANGE),
    Subcommand("saved", 1, (("saved [page]", "your reading list (a paper's Save button or save-emoji reaction "
                                             "adds it)"),)),
    Subcommand("unsave", 1, (("unsave <paper>", "remove a paper from your reading list"),)),
    Subcommand("top", 1, (("top [week|month|all]", "the team's most-saved papers"),)),
    # It takes more (`export topic diffusion`), but `expert systems` must stay a search.
    Subcommand("export", 0, (("export [saved|channel|topic <topic>]",
                              "BibTeX of your reading list, this channel's papers or a topic"),)),
    Subcommand("help", 1, (("help", "this message"),), aliases=("?",)),
)


class Registry:
    """The subcommand table with the handlers the features bound to it."""

    def __init__(self, subcommands: tuple[Subcommand, ...] = SUBCOMMANDS) -> None:
        self._by_name = {s.name: s for s in subcommands}
        self._aliases = {alias: s.name for s in subcommands for alias in s.aliases}
        self._handlers: dict[str, Handler] = {}

    def __iter__(self) -> Iterator[Subcommand]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Subcommand:
        return self._by_name[name]

    def names(self) -> list[str]:
        return list(self._by_name)

    def resolve(self, word: str) -> str | None:
        """The subcommand `word` (casefolded) names, through an alias if need be; None if none."""
        key = self._aliases.get(word, word)
        return key if key in self._by_name else None

    def is_alias(self, word: str) -> bool:
        return word in self._aliases

    def help_lines(self) -> list[tuple[str, str]]:
        return [line for s in self for line in s.help]

    def bind(self, name: str, handler: Handler) -> None:
        if name not in self._by_name:
            raise KeyError(f"no subcommand {name!r} in the registry")
        if name in self._handlers:
            raise ValueError(f"subcommand {name!r} is bound twice")
        self._handlers[name] = handler

    def handler(self, name: str) -> Handler:
        return self._handlers[name]

    def unbound(self) -> list[str]:
        return [name for name in self._by_name if name not in self._handlers]


REGISTRY = Registry()  # the static table, for parsing and for the checks; apps bind handlers to their own copy
