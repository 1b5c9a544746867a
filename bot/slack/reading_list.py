"""Reading lists: the Save / Unsave buttons, `/papers saved [page]` with its paging buttons, `/papers unsave`
and the team's `/papers top`.

A button's save or unsave is one small write, done in the ack function (`write_before_ack`): Slack hears 200
only once it is on disk, else a 500 (the button shows its error) and an apology with a reference. A click in
the App Home tab has no response URL: the tab is published again instead.

A Save button carries its paper id in its value, which anyone can forge: a paper the archive does not know is
looked up on Hugging Face / arXiv after the ack and saved only if one of them knows it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext

from bot.ingest import fetch_papers
from bot.papers import normalize_arxiv_id
from bot.saves import records_for
from bot.slack import blocks
from bot.slack import reading_list_blocks as rl
from bot.slack import save_blocks as sb
from bot.slack.commands import CommandRouter
from bot.slack.home import HomeTab
from bot.slack.paper_card import ACTION_SAVE, PaperLike, record_or_stub, title_link
from bot.slack.plumbing import CONTEXT_KEY, Click, Responder, ack_now, new_ref, responder, write_before_ack
from bot.slack.registry import Invocation

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("bot.slack.saves")  # the saving feature's logger: operators filter its lines by name

TOP_WINDOWS: dict[str, int | None] = {"week": 7, "month": 30, "all": None}


def _describe_save(body: Mapping[str, Any]) -> str:
    click = Click.of(body)
    return f"event=save.button user={click.user} paper={normalize_arxiv_id(click.value)}"


def _describe_unsave(body: Mapping[str, Any]) -> str:
    click = Click.of(body)
    return f"event=unsave.button user={click.user} paper={rl.parse_unsave_value(click.value)[0]}"


class ReadingList:
    def __init__(self, services: Services, home: HomeTab) -> None:
        self.services = services
        self.saves = services.saves
        self.settings = services.settings
        self.command_name = services.settings.command
        self.home = home

    def record(self, paper_id: str) -> PaperLike:
        return record_or_stub(self.services.archive, paper_id)

    def responder(self, body: Mapping[str, Any]) -> Responder:
        return responder(body, self.settings.http_timeout)

    # --- buttons --------------------------------------------------------------------------------------------

    def save_write(self, body: Mapping[str, Any]) -> dict[str, Any]:
        click = Click.of(body)
        user, channel, ts = click.user, click.channel or None, click.ts  # no channel: the Home tab
        paper_id = normalize_arxiv_id(click.value)
        if not (paper_id and user):
            return {"kind": "bad_value"}
        if paper_id not in self.services.archive:  # asking the sources takes seconds: after the ack
            return {"kind": "lookup", "paper": paper_id, "user": user, "channel": channel, "ts": ts}
        outcome = self.saves.save(user, paper_id, via="button", channel=channel, ts=ts)
        return {"kind": "saved", "paper": paper_id, "new": outcome.new}

    def _look_up_and_save(self, summary: dict[str, Any]) -> dict[str, Any]:
        """A paper the archive lacks: save it only if a source knows it (archiving it too)."""
        paper_id = summary["paper"]
        fetched = fetch_papers(self.services.archive, self.services.sources, [paper_id], skip_known=True)
        if paper_id in fetched.records:
            try:
                outcome = self.saves.save(summary["user"], paper_id, via="button", channel=summary["channel"],
                                          ts=summary["ts"])
            except Exception:
                ref = new_ref()
                log.exception("slack.error ref=%s event=save.button user=%s paper=%s", ref, summary["user"], paper_id)
                return {"kind": "error", "ref": ref, "paper": paper_id}
            return {"kind": "saved", "paper": paper_id, "new": outcome.new}
        return {"kind": "missing" if paper_id in fetched.missing else "unreachable", "paper": paper_id}

    def _button_work(self, action: str, body: Mapping[str, Any],
                     context: BoltContext) -> tuple[str, dict[str, Any], Responder]:
        """After a Save / Unsave ack: who clicked, what the ack did (logged), and where to answer."""
        click = Click.of(body)
        user, channel = click.user, click.channel
        summary = context.get(CONTEXT_KEY) or {"kind": "error", "ref": "-"}
        log.info("slack.action action=%s user=%s channel=%s paper=%s status=%s", action, user, channel,
                 summary.get("paper", "-"), summary["kind"])
        return user, summary, self.responder(body)

    def save_work(self, body: Mapping[str, Any], context: BoltContext) -> None:
        user, summary, reply = self._button_work("save", body, context)
        if summary["kind"] == "lookup":
            summary = self._look_up_and_save(summary)
            log.info("save.button.lookup user=%s paper=%s status=%s", user, summary["paper"], summary["kind"])
        if summary["kind"] in ("missing", "unreachable"):
            if reply.url:
                reply(sb.missing_papers([summary["paper"]]) if summary["kind"] == "missing" else
                      sb.lookup_failed(summary["paper"]))
            return
        if summary["kind"] == "error":
            if reply.url:
                reply(sb.save_failed(summary["ref"]))
            return
        if summary["kind"] == "bad_value":
            reply(blocks.button_expired())
            return
        if not reply.url:  # a button in the Home tab: show the list there
            self.home.publish(user)
            return
        record = self.record(summary["paper"])
        reply(sb.saved([record], self.command_name) if summary["new"] else
              sb.already_saved(record, self.command_name))

    def unsave_write(self, body: Mapping[str, Any]) -> dict[str, Any]:
        click = Click.of(body)
        user = click.user
        paper_id, page = rl.parse_unsave_value(click.value)
        removed = self.saves.unsave(user, paper_id) if paper_id and user else None
        return {"kind": "unsaved" if removed else "absent", "paper": paper_id, "page": page}

    def unsave_work(self, body: Mapping[str, Any], context: BoltContext) -> None:
        user, summary, reply = self._button_work("unsave", body, context)
        if not reply.url:
            self.home.publish(user)
            return
        if summary["kind"] == "error":
            reply(sb.save_failed(summary["ref"]))
            return
        note = None
        if summary["kind"] == "unsaved" and summary["paper"]:
            note = f"Removed {title_link(self.record(summary['paper']))}."
        reply(self.reading_list(user, int(summary.get("page") or 0), note), replace_original=True)

    def page_work(self, body: Mapping[str, Any]) -> None:
        click = Click.of(body)
        page = int(click.value) if click.value.isdecimal() else 0
        self.responder(body)(self.reading_list(click.user, page), replace_original=True)

    # --- /papers saved | unsave | top -----------------------------------------------------------------------

    def saved_command(self, inv: Invocation) -> None:
        page = int(inv.args) - 1 if inv.args.strip().isdecimal() and int(inv.args) > 0 else 0
        inv.reply(self.reading_list(inv.user, page))
        inv.fields["page"] = page + 1

    def reading_list(self, user: str, page: int, note: str | None = None) -> blocks.Message:
        saves = self.saves.saved(user)
        pages = max(1, -(-len(saves) // rl.SAVED_PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        chunk = saves[page * rl.SAVED_PAGE_SIZE:(page + 1) * rl.SAVED_PAGE_SIZE]
        records = records_for(self.services.archive, [s.paper_id for s in chunk])
        return rl.reading_list(list(zip(chunk, records, strict=True)), page=page, total=len(saves),
                               command=self.command_name, note=note, emoji=self.settings.save_emojis[0])

    def unsave_command(self, inv: Invocation) -> None:
        words = inv.args.split()
        paper_id = normalize_arxiv_id(words[0]) if len(words) == 1 else None
        if paper_id is None:
            inv.reply(sb.unsave_usage(self.command_name))
            inv.fields["refused"] = "usage"
            return
        removed = self.saves.unsave(inv.user, paper_id)
        if removed is None:
            inv.reply(sb.not_saved(paper_id, self.command_name))
            inv.fields["refused"] = "not_saved"
            return
        inv.reply(sb.unsaved(self.record(paper_id)))
        inv.fields["paper"] = paper_id

    def top_command(self, inv: Invocation) -> None:
        window = inv.args.strip().lower() or "week"
        if window not in TOP_WINDOWS:
            inv.reply(rl.top_usage(self.command_name, inv.args.strip()))
            inv.fields["refused"] = "usage"
            return
        days = TOP_WINDOWS[window]
        since = datetime.now(UTC) - timedelta(days=days) if days is not None else None
        top = self.saves.top(since=since, limit=rl.TOP_SIZE)
        records = records_for(self.services.archive, [t.paper_id for t in top])
        inv.reply(rl.top_list(list(zip(top, records, strict=True)), window, self.command_name,
                              emoji=self.settings.save_emojis[0]))
        inv.fields.update(window=window, results=len(top))


def register(app: App, services: Services, commands: CommandRouter, home: HomeTab) -> ReadingList:
    feature = ReadingList(services, home)
    commands.registry.bind("saved", feature.saved_command)
    commands.registry.bind("unsave", feature.unsave_command)
    commands.registry.bind("top", feature.top_command)

    def on_save_work(body: dict[str, Any], context: BoltContext) -> None:
        feature.save_work(body, context)

    def on_unsave_work(body: dict[str, Any], context: BoltContext) -> None:
        feature.unsave_work(body, context)

    def on_page_work(body: dict[str, Any]) -> None:
        feature.page_work(body)

    app.action(ACTION_SAVE)(ack=write_before_ack(log, _describe_save)(feature.save_write), lazy=[on_save_work])
    app.action(rl.ACTION_UNSAVE)(ack=write_before_ack(log, _describe_unsave)(feature.unsave_write),
                                 lazy=[on_unsave_work])
    app.action(re.compile(f"^(?:{rl.ACTION_SAVED_PREV}|{rl.ACTION_SAVED_NEXT})$"))(ack=ack_now, lazy=[on_page_work])
    return feature
