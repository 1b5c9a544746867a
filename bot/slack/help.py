"""The help text, rendered from the subcommand registry (registry.py): `/papers help`, the "did you mean"
reply to a mistyped subcommand, and the help section of the App Home tab."""

from __future__ import annotations

from bot.slack.blocks import Block, Message, code, context, escape_mrkdwn, mention, message, section
from bot.slack.registry import REGISTRY, Registry


def help_blocks(command: str, *, admins: frozenset[str] = frozenset(), registry: Registry = REGISTRY) -> list[Block]:
    lines = [f"• {code(command + ' ' + usage)} — {description}" for usage, description in registry.help_lines()]
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
