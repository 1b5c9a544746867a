"""Block Kit for digests: the header message, one reply per paper, previews and the settings replies.

Built on bot/slack/blocks.py (escaping and limit checks) and paper_card.py (how a paper looks): every outside
string (titles, topics, Slack errors) is escaped there exactly once, and every payload goes through
`blocks.message`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bot.digest.readiness import Readiness
from bot.digest.selection import Pick, Plan
from bot.digest.settings import ChannelDigest
from bot.papers import clean_text
from bot.slack import blocks as b
from bot.slack.feedback_blocks import not_relevant_button
from bot.slack.paper_card import PaperLike, paper_blocks, paper_fallback, paper_links, paper_text, paper_title

HEADER_TITLE_CHARS = 110
PREVIEW_SHOWN = 15
DIGEST_ABSTRACT_CHARS = 600
WHY_CHARS = 300


def header_block_id(day: date) -> str:
    """Marks the header message so a resumed digest can find it in the channel history."""
    return f"digest:{day.isoformat()}"


def nice_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _topics_line(topics: Sequence[str], limit: int = 8) -> str:
    shown = "; ".join(b.quoted(t, 60) for t in topics[:limit])
    return shown + (f" and {len(topics) - limit} more" if len(topics) > limit else "")


def digest_header(channel: ChannelDigest, day: date, items: Sequence[tuple[PaperLike, Pick]],
                  *, command: str) -> b.Message:
    """The top-level message of a digest: what is in the thread, one line per paper."""
    when = nice_day(day)
    if not items:
        text = f"Papers for {when}: nothing new matched this channel's topics."
        return b.message(text, [
            b.section(f":newspaper: *Papers for {b.escape_mrkdwn(when)}*: nothing new matched this channel's "
                      f"topics.", block_id=header_block_id(day)),
            b.context(f"Topics: {_topics_line(channel.topics)} · tune them with {b.code(command + ' topics')}"),
        ])
    count = b.n_papers(len(items))
    lines = []
    for position, (record, _pick) in enumerate(items, 1):
        title = b.truncate_plain(paper_title(record), HEADER_TITLE_CHARS)
        lines.append(f"{position}. {b.link(paper_links(record)['abs'], title)}")
    intro = (f":newspaper: *Papers for {b.escape_mrkdwn(when)}*: {count} matching this channel's topics, "
             f"one reply each in the thread :thread:")
    blocks = [b.section(intro, block_id=header_block_id(day)), *b.line_sections(lines)]
    blocks.append(b.context(f"React to a paper's reply to save it · topics: {_topics_line(channel.topics)} · "
                            f"{b.code(command + ' digest preview')} shows what comes next"))
    titles = "; ".join(paper_fallback(record) for record, _ in items[:10])
    return b.message(f"Papers for {b.escape_mrkdwn(when)}: {count}: {titles}", blocks)


def digest_paper(record: PaperLike, pick: Pick, position: int, total: int) -> b.Message:
    """One paper of a digest (a thread reply): the paper with its Save and Not relevant buttons, and why it is
    here (the pick's `why` when the ranking gave one, else the topic it matches)."""
    blocks = paper_blocks(record, abstract_chars=DIGEST_ABSTRACT_CHARS, share=False)  # it is in the channel
    for block in blocks:
        if block["type"] == "actions":
            block["elements"].append(not_relevant_button(str(record.get("id", ""))))
    why = clean_text(pick.why)
    why = b.escape_mrkdwn(b.truncate_plain(why, WHY_CHARS)) if why else f"matches {b.quoted(pick.topic, 80)}"
    blocks.append(b.context(f"{position}/{total} · {why}"))
    return b.message(f"{position}/{total}: {paper_fallback(record)}", blocks)


def digest_preview(plan: Plan, records: Mapping[str, PaperLike], channel: ChannelDigest, *,
                   next_digest: bool, command: str) -> b.Message:
    """Ephemeral: what the digest would post now (nothing is recorded)."""
    which = "The next digest would" if next_digest else "Today's digest would"
    if not channel.topics:
        return b.note(f"This channel watches no topics, so its digest would be empty. Add one with "
                      f"{b.code(command + ' watch diffusion models')}.")
    if not plan.picks:
        text = (f"{which} post nothing so far: none of the {b.n_papers(plan.candidates)} new from this channel's "
                f"sources matches its topics.")
        return b.message(text, [b.section(text), b.context(f"Topics: {_topics_line(channel.topics)} · "
                                                           f"{b.code(command + ' topics')} shows 7-day counts")])
    summary = (f"*{which} post {b.n_papers(len(plan.picks))}* (of {plan.candidates} new from this channel's "
               f"sources" + (f"; {len(plan.skipped)} more matched but are over the maximum of "
                             f"{channel.max_papers}" if plan.skipped else "") + ")")
    blocks: list[b.Block] = [b.section(summary)]
    shown = plan.picks[:PREVIEW_SHOWN]
    for position, pick in enumerate(shown, 1):
        record = records.get(pick.paper_id)
        if record is None:
            continue
        blocks.append(b.section(paper_text(record, abstract_chars=0)))
        blocks.append(b.context(f"{position}. matches {b.quoted(pick.topic, 80)} · score {pick.score:.2f}"))
    if len(plan.picks) > len(shown):
        blocks.append(b.context(f"…and {len(plan.picks) - len(shown)} more."))
    blocks.append(b.context(f"Only you can see this preview; nothing was posted. "
                            f"{b.code(command + ' digest')} posts today's digest now."))
    titles = "; ".join(paper_fallback(records[p.paper_id]) for p in shown if p.paper_id in records)
    return b.message(f"{summary.replace('*', '')}: {titles}", blocks)


def digest_posting(doc: Mapping[str, Any]) -> b.Message:
    n = len(doc.get("picks", []))
    if not n:
        return b.note("Posting today's digest now: nothing new matched this channel's topics.")
    return b.note(f"Posting today's digest now: {b.n_papers(n)}, in a thread under one message.")


def digest_result(result: Any, command: str, channel: ChannelDigest | None = None) -> b.Message | None:
    """The reply after `/papers digest` finished (None when the "posting now" note already said it all)."""
    if result.status == "waiting":
        return b.note(waiting_text(result.readiness, channel, command=command))
    if result.status == "already":
        doc = result.doc or {}
        at = str(doc.get("done_at") or "")[11:16]
        return b.note(f"Today's digest was already posted ({b.n_papers(int(doc.get('posted') or 0))}"
                      + (f", at {b.escape_mrkdwn(at)} UTC" if at else "") + f"). "
                      f"{b.code(command + ' digest preview')} shows what the next one would contain.")
    if result.status == "empty":
        return b.note("Nothing new matched this channel's topics today, so I posted nothing. "
                      f"{b.code(command + ' topics')} shows how many recent papers each topic matches.")
    if result.status == "paused":
        return b.note(gone_text(result.error or "", command))
    if result.status == "incomplete":
        return b.note(f"Slack refused some posts ({b.escape_mrkdwn(result.error or 'error')}); I'll retry the "
                      f"rest of the digest in a few minutes.")
    if result.status == "stopped":
        return b.note("paperbot is restarting; the digest resumes where it stopped when it is back.")
    return None


def waiting_text(readiness: Readiness | None, channel: ChannelDigest | None, *, command: str) -> str:
    """Why an empty digest recorded nothing (mrkdwn): the sources are down, or today's papers are not in yet;
    and what happens next: the scheduled digest looks again at its time (it may still post nothing), or, with
    nothing scheduled today (schedule off, paused, not a scheduled day), nothing goes out by itself."""
    scheduled = readiness.scheduled_at if readiness is not None else None
    again = None
    if scheduled is not None and channel is not None:
        local = scheduled.astimezone(channel.schedule.zone)
        again = f"I'll look again at {local:%H:%M} {b.escape_mrkdwn(channel.schedule.tz)}"
    down = readiness.down if readiness is not None else ()
    if down:
        names = "; ".join(f"{'Hugging Face' if source == 'hf' else 'arXiv ' + source}: {error}"
                          for source, error in down)
        return (f"I couldn't look for new papers: the sources are down "
                f"({b.escape_mrkdwn(b.truncate_plain(names, 300))}). Nothing was posted or recorded; "
                f"{again or 'run ' + b.code(command + ' digest') + ' again once they are back'}.")
    return (f"Today's papers are not in yet, so nothing was posted or recorded; "
            f"{again or 'run ' + b.code(command + ' digest') + ' again later'}.")


def gone_text(error: str, command: str) -> str:
    """Why the channel's digest is paused, and how to resume it (mrkdwn; `error` is only looked up)."""
    reasons = {
        "not_in_channel": "I'm not a member of this channel, so I can't post its digest. Invite me with "
                          "`/invite @paperbot`",
        "channel_not_found": "I can't see this channel (a private channel I'm not part of?), so I can't post "
                             "its digest. Invite me with `/invite @paperbot`",
        "is_archived": "This channel is archived, so I can't post its digest",
        "restricted_action": "This workspace doesn't allow me to post in this channel",
    }
    return (reasons.get(error, "I can't post in this channel") + ". Its digest is paused; run "
            + b.code(command + " schedule …") + " again once I can post here.")


def schedule_status(channel: ChannelDigest, next_due: datetime | None, *, command: str,
                    changed_by: str | None = None) -> b.Message:
    """The channel's digest settings (after a change, visible to the channel)."""
    s = channel.schedule
    lines = []
    if changed_by:
        lines.append(f"{b.mention(changed_by)} changed this channel's digest settings.")
    if not s.enabled:
        lines.append(f"*Digest: off.* Turn it on with {b.code(command + ' schedule 09:00')}.")
    else:
        lines.append(f"*Digest:* {b.escape_mrkdwn(s.describe())}, at most {b.n_papers(channel.max_papers)}"
                     + (", posts a note on quiet days" if channel.post_empty else ", nothing on quiet days") + ".")
    lines.append(f"*Strictness:* {b.escape_mrkdwn(channel.describe_strictness())}")
    lines.append(f"*Sources:* {sources_text(channel.sources)}")
    if channel.paused:
        lines.append(f":warning: Paused: {gone_text(channel.paused, command)}")
    elif not channel.topics:
        lines.append(f"No topics yet, so there is nothing to post: add one with "
                     f"{b.code(command + ' watch <topic>')}.")
    elif next_due is not None and s.enabled:
        local = next_due.astimezone(s.zone)
        lines.append(f"Next digest: {b.escape_mrkdwn(nice_day(local.date()))}, {local:%H:%M} "
                     f"{b.escape_mrkdwn(s.tz)}.")
    text = "\n".join(lines)
    return b.message(text, [b.section(text), b.context(
        f"Change: {b.code(command + ' schedule 09:00 Europe/Berlin weekdays')} · "
        f"{b.code(command + ' schedule max 5')} · {b.code(command + ' schedule strict')} · "
        f"{b.code(command + ' schedule off')} · "
        f"{b.code(command + ' sources hf cs.LG')}")])


def sources_text(sources: Sequence[str]) -> str:
    parts = ["Hugging Face Daily Papers" if s == "hf" else f"arXiv {b.escape_mrkdwn(s)}" for s in sources]
    return ", ".join(parts)


def sources_changed(user_id: str, channel: ChannelDigest) -> b.Message:
    text = f"{b.mention(user_id)} set this channel's digest sources: {sources_text(channel.sources)}."
    return b.message(text, [b.section(text)])


def sources_status(channel: ChannelDigest, command: str) -> b.Message:
    return b.note(f"This channel's digest takes papers from: {sources_text(channel.sources)}.\n"
                  f"Change with {b.code(command + ' sources hf cs.LG cs.CL')} (“hf” is Hugging Face Daily Papers).")


def problem(text: str, example: str, command: str) -> b.Message:
    """A friendly refusal: `text` is plain (it may quote what the user typed), `example` a command to try."""
    return b.note(f"{b.escape_mrkdwn(text)}\nFor example: {b.code(command + ' ' + example)}")
