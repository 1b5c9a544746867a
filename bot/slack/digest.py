"""`/papers digest`, `digest preview`, `schedule` and `sources`: a channel's digest, now or on its schedule.

Parse what was typed, call the digest service (`services.digests`), render with digest_blocks. Settings
changes are announced in the channel (they change what everyone there gets); views and refusals are
ephemeral. Posting a digest now and changing settings are limited to PAPERBOT_ADMINS when that is set, like
`watch`; everyone may look. The digests themselves are posted by digest_poster.py.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt import App

from bot.digest.schedule import ScheduleError, parse_schedule_args
from bot.digest.service import DigestService
from bot.digest.settings import ChannelDigest, SourcesError, parse_sources
from bot.slack import blocks, digest_blocks
from bot.slack.commands import CommandRouter
from bot.slack.plumbing import EPHEMERAL, IN_CHANNEL, Answer, Responder
from bot.slack.registry import Invocation
from bot.store.documents import DigestDoc

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("bot.slack.digest")


class Digests:
    def __init__(self, services: Services, service: DigestService) -> None:
        self.settings = services.settings
        self.service = service
        self.command = services.settings.command

    def digest(self, inv: Invocation) -> Answer:
        """`digest` (post now), `digest preview`, `digest settings`; the response URL carries progress."""
        words = inv.args.split()
        sub = words[0].casefold() if words else ""
        fields = inv.fields
        if sub in ("preview", "peek", "show"):
            fields["mode"] = "preview"
            return self.preview(inv.channel)
        if sub in ("", "now", "post"):
            fields["mode"] = "post"
            return self.post_now(inv, inv.reply)
        if sub in ("settings", "schedule", "status"):
            return self.show_schedule(inv.channel)
        fields["refused"] = "usage"
        return digest_blocks.problem(f"I don't know “digest {inv.args}”.", "digest preview", self.command), EPHEMERAL

    def _refuse(self, fields: dict[str, Any]) -> Answer:
        fields["refused"] = "not_admin"
        return blocks.not_allowed(self.command, self.settings.admins, what="change this channel's digest or post it "
                                  "early", still=("schedule", "digest preview")), EPHEMERAL

    # --- views ---

    def preview(self, channel: str) -> Answer:
        state = self.service.channel(channel)
        plan, next_digest = self.service.preview(state)
        records = self.service.archive.get_many(p.paper_id for p in plan.picks)
        return digest_blocks.digest_preview(plan, records, state, next_digest=next_digest,
                                            command=self.command), EPHEMERAL

    # --- actions ---

    def post_now(self, inv: Invocation, reply: Responder | None) -> Answer:
        channel, fields = inv.channel, inv.fields
        if not inv.may_configure:
            return self._refuse(fields)
        state = self.service.channel(channel)
        if not state.topics:
            fields["refused"] = "no_topics"
            return blocks.note(f"This channel watches no topics yet, so there is nothing to post. Add one with "
                               f"{blocks.code(self.command + ' watch diffusion models')}."), EPHEMERAL
        day = self.service.today(state)
        told: list[bool] = []

        def on_plan(doc: DigestDoc) -> None:
            # Tell the user what is coming before the paced posting starts (it takes a second per paper).
            if reply is not None and doc.get("status") != "done" and doc.get("picks"):
                reply(digest_blocks.digest_posting(doc))
                told.append(True)

        result = self.service.run(state, day, trigger="command", on_plan=on_plan)
        fields.update(status=result.status, posted=result.posted)
        answer = digest_blocks.digest_result(result, self.command, state)
        if answer is None:
            if told:
                answer = blocks.note(f"Done: today's digest is in the channel ({result.posted} "
                                     f"paper{'' if result.posted == 1 else 's'}).")
            else:
                answer = blocks.note("Today's digest is in the channel.")
        return answer, EPHEMERAL

    def show_schedule(self, channel: str) -> Answer:
        state = self.service.channel(channel)
        now = self.service.clock()
        return digest_blocks.schedule_status(state, self._next_due(state, now), command=self.command), EPHEMERAL

    def schedule(self, inv: Invocation) -> Answer:
        args, user, channel, fields = inv.args, inv.user, inv.channel, inv.fields
        if not args.strip():
            return self.show_schedule(channel)
        if not inv.may_configure:
            return self._refuse(fields)
        try:
            change = parse_schedule_args(args)
        except ScheduleError as exc:
            fields["refused"] = "schedule"
            return digest_blocks.problem(str(exc), f"schedule {exc.example}", self.command), EPHEMERAL
        now = self.service.clock()
        before = self.service.channel(channel)
        state = self.service.channel_settings.change_schedule(channel, user, change, now)
        if before.paused:
            log.info("digest.resumed channel=%s by=%s", channel, user)
        fields["schedule"] = state.schedule.describe().replace(" ", "_") if state.schedule.enabled else "off"
        if change.strictness is not None:
            fields["strictness"] = str(state.strictness)  # strict, normal, broad or a custom minimum
        return digest_blocks.schedule_status(state, self._next_due(state, now), command=self.command,
                                             changed_by=user), IN_CHANNEL

    def _next_due(self, state: ChannelDigest, now: datetime) -> datetime | None:
        doc = self.service.ledger.get(state.channel, self.service.today(state, now))
        after = state.effective_from
        if doc is not None:  # today's is done or under way: the next is tomorrow's
            after = max(after or now, state.schedule.due_at(self.service.today(state, now)) + timedelta(seconds=1))
        return state.schedule.next_due(now, after=after)

    def sources(self, inv: Invocation) -> Answer:
        args, user, channel, fields = inv.args, inv.user, inv.channel, inv.fields
        if not args.strip():
            return digest_blocks.sources_status(self.service.channel(channel), self.command), EPHEMERAL
        if not inv.may_configure:
            return self._refuse(fields)
        try:
            chosen = parse_sources(args)
        except SourcesError as exc:
            fields["refused"] = "sources"
            return digest_blocks.problem(str(exc), "sources hf cs.LG cs.CL", self.command), EPHEMERAL
        state = self.service.channel_settings.set_sources(channel, user, chosen, self.service.clock())
        fields["sources"] = ",".join(chosen)
        return digest_blocks.sources_changed(user, state), IN_CHANNEL


def register(app: App, services: Services, commands: CommandRouter) -> Digests:
    """Binds the subcommands; the digest has no Bolt listener of its own (a paper's Save button is the
    reading list's)."""
    feature = Digests(services, services.digests)
    commands.registry.bind("digest", feature.digest)
    commands.registry.bind("schedule", feature.schedule)
    commands.registry.bind("sources", feature.sources)
    return feature
