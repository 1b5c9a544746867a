"""Block Kit for the App Home tab: the user's newest saves, the topics of their channels, then help."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.slack import blocks as b
from bot.slack.paper_card import PaperLike
from bot.slack.reading_list_blocks import saved_entry
from bot.store.models import Save

HOME_SAVES = 10
HOME_CHANNELS = 15


def home_saves(entries: Sequence[tuple[Save, PaperLike]], total: int, command: str,
               emoji: str = "bookmark") -> list[b.Block]:
    if not entries:
        return [b.section(f"*Your reading list* is empty. React with {b.emoji(emoji)} to a paper paperbot posts, "
                          "or to a message with an arXiv or Hugging Face link, to save it here.")]
    count = f"{total} paper" + ("" if total == 1 else "s")
    more = f" — the {len(entries)} newest" if total > len(entries) else ""
    blocks: list[b.Block] = [b.section(f"*Your reading list* ({count}{more}). All of it: "
                                       f"{b.code(command + ' saved')} · BibTeX: {b.code(command + ' export')}")]
    for save, record in entries:
        blocks.append(saved_entry(save, record))
    return blocks


def home_topics(topics_by_channel: Mapping[str, Sequence[str]], command: str) -> list[b.Block]:
    if not topics_by_channel:
        return [b.section(f"*Topics in your channels*: none yet. In a channel, {b.code(command + ' watch <topic>')} "
                          f"adds one to its digest.")]
    lines = []
    for channel, topics in list(topics_by_channel.items())[:HOME_CHANNELS]:
        shown = "; ".join(b.escape_mrkdwn(b.truncate_plain(t, 60)) for t in topics[:10])
        lines.append(f"• {b.channel_ref(channel)}: {shown}" + (" …" if len(topics) > 10 else ""))
    return [b.section(b.truncate_mrkdwn("*Topics in your channels*\n" + "\n".join(lines), b.SECTION_TEXT))]
