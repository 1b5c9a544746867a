"""Block Kit for `/papers watch | unwatch | topics [try <topic>]`: the topic list (with 7-day counts), a topic
trial, changes announced to the channel, and refusals."""

from __future__ import annotations

from collections.abc import Sequence

from bot.digest.selection import TopicCount
from bot.digest.settings import ChannelDigest
from bot.digest.trial import Trial, TrialMatch
from bot.papers import clean_text
from bot.slack import blocks as b
from bot.slack.blocks import (
    Message,
    code,
    context,
    escape_mrkdwn,
    mention,
    message,
    note,
    quoted,
    section,
    truncate_plain,
)
from bot.slack.digest_blocks import sources_text

TOPIC_DISPLAY_CHARS = 200
TRIAL_TOP = 5  # `topics try`: the best matches shown
TRIAL_BORDERLINE = 2  # and the weakest ones, so the bar can be judged
TRIAL_TITLE_CHARS = 150

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
    if reason == "empty_try":
        return note(f"Tell me which topic to try, for example {code(command + ' topics try diffusion models')}. "
                    f"Nothing is changed.")
    if reason == "too_long":
        return note(f"That topic is too long: keep it under {limit} characters, a few keywords work best.")
    if reason == "too_many":
        return note(f"This channel already watches {limit} topics, the most it can have. "
                    f"Remove one first with {code(command + ' unwatch <topic>')}.")
    return note("That topic can't be used.")


def topics_with_counts(channel: ChannelDigest, counts: Sequence[TopicCount], command: str, *,
                       may_configure: bool = True, days: int = 7) -> Message:
    """`/papers topics`: each topic with how many of the last `days` days' papers it would have matched."""
    if not counts:
        return topics_list([], command, may_configure=may_configure)
    n = f"{len(counts)} topic" + ("" if len(counts) == 1 else "s")
    lines = [f"{i}. {b.escape_mrkdwn(b.truncate_plain(c.topic, TOPIC_DISPLAY_CHARS))} — "
             + (f"_matches nothing: {b.escape_mrkdwn(b.truncate_plain(c.problem, 200))}_" if c.problem
                else b.n_papers(c.count))
             for i, c in enumerate(counts, 1)]
    blocks: list[b.Block] = [b.section(f"*This channel watches {n}* (papers each matched in the last {days} days "
                                       f"from {sources_text(channel.sources)}):")]
    blocks.extend(b.line_sections(lines))
    tips = (f"A topic with 0 may be too narrow (or misspelt); one with dozens a day floods the digest "
            f"(at most {channel.max_papers} a day are posted).")
    if may_configure:
        tips += (f" Add: {b.code(command + ' watch <topic>')} · remove: "
                 f"{b.code(command + ' unwatch <topic or number>')}")
    blocks.append(b.context(tips))
    return b.message(f"This channel watches {n}: " + "; ".join(f"{b.escape_mrkdwn(c.topic)} ({c.count})"
                                                              for c in counts), blocks)


def topic_refused(topic: str, problem: str) -> Message:
    """`topics try`: the search core refuses the topic (it would never match anything)."""
    return note(f"{quoted(topic, TOPIC_DISPLAY_CHARS)} can't be used as a topic: "
                f"{escape_mrkdwn(truncate_plain(problem, 300))}")


def _trial_line(position: int, match: TrialMatch) -> str:
    title = escape_mrkdwn(truncate_plain(clean_text(match.record.get("title")) or match.paper_id,
                                         TRIAL_TITLE_CHARS))
    why = escape_mrkdwn(truncate_plain(match.why, TOPIC_DISPLAY_CHARS + 100))
    return f"{position}. *{title}* ({escape_mrkdwn(match.paper_id)}) — score {match.score:.2f} · _{why}_"


def topic_trial(trial: Trial, channel: ChannelDigest, command: str, *, days: int, watched: bool = False) -> Message:
    """`/papers topics try <topic>`: how many of the last `days` days' papers (from the channel's sources) the
    topic would have matched, the best few and the borderline ones (the weakest matches), with why; ephemeral."""
    topic = quoted(trial.topic, TOPIC_DISPLAY_CHARS)
    summary = (f"{topic} would have matched {b.n_papers(trial.count)} of the {trial.candidates} that arrived in "
               f"the last {days} days from {sources_text(channel.sources)}.")
    blocks: list[b.Block] = [section(summary)]
    top = trial.matches[:TRIAL_TOP]
    if top:
        blocks.append(section("*Best matches:*"))
        blocks.extend(b.line_sections([_trial_line(i, m) for i, m in enumerate(top, 1)]))
    rest = list(enumerate(trial.matches, 1))[TRIAL_TOP:]
    borderline = sorted(sorted(rest, key=lambda item: item[1].score)[:TRIAL_BORDERLINE], key=lambda item: item[0])
    if borderline:
        blocks.append(section("*Borderline* (the weakest matches):"))
        blocks.extend(b.line_sections([_trial_line(i, m) for i, m in borderline]))
    tips = ["Nothing was changed."]
    if trial.count > channel.max_papers:
        tips.append(f"A digest posts at most {channel.max_papers} a day, the best first.")
    if not trial.count:
        tips.append("Try fewer or broader words (every word must be in a paper).")
    if watched:
        tips.append("This channel already watches it.")
    else:
        tips.append(f"Watch it: {code(command + ' watch ' + trial.topic)}")
    blocks.append(context(" ".join(tips)))
    return message(summary, blocks)
