"""`paperbot digest [--channel C] [--dry-run]`: post today's digests now, or print what they would contain.

- `--dry-run` opens the data directory read-only (it works while the bot runs), records nothing, and
  prints each channel's digest: the papers in order, with the topic each matched.
- Without it, it needs SLACK_BOT_TOKEN (checked as `paperbot run` checks it: not the .env.example placeholder)
  and the data directory's writer lock (it refuses while `paperbot run` holds it: the running bot posts the
  digests itself) and posts exactly like the scheduler: a channel whose digest for today is done is left
  alone, an interrupted one is resumed.

Without `--channel`: every channel whose digest is on (has topics, schedule on, not paused).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.commands import CommandError
from bot.config import Settings
from bot.slack.ids import is_channel_id

if TYPE_CHECKING:
    from bot.digest.selection import Plan
    from bot.digest.service import DigestService
    from bot.digest.settings import ChannelDigest


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "digest", help="post today's channel digests now (or --dry-run to print them)",
        description="Post today's digest of each channel now (or of one with --channel), exactly as the scheduler "
                    "would: a digest already posted today is not posted again. --dry-run prints what would be "
                    "posted and records nothing.")
    parser.add_argument("--channel", metavar="C", help="one Slack channel id (C…), even if its schedule is off")
    parser.add_argument("--dry-run", action="store_true", help="print what would be posted; post and record nothing")
    parser.set_defaults(handler=handle)


def _channels(service: DigestService, channel: str | None) -> list[ChannelDigest]:
    if channel is None:
        chosen = [c for c in service.channels() if c.active]
        if not chosen:
            raise CommandError("no channel has a digest yet (watch a topic with /papers watch in a channel)")
        return chosen
    if not is_channel_id(channel):
        raise CommandError(f"--channel must be a Slack channel id such as C0123ABCD (got {channel!r})", status=2)
    found = service.channel(channel)
    if not found.topics:
        raise CommandError(f"channel {channel} watches no topics, so its digest would be empty")
    return [found]


def _print_plan(service: DigestService, channel: ChannelDigest, plan: Plan, next_digest: bool) -> None:
    day = plan.day.isoformat()
    what = "next digest" if next_digest else f"digest for {day}"
    note = " [paused: " + channel.paused + "]" if channel.paused else ""
    print(f"{channel.channel} {what} ({channel.schedule.describe()}){note}: {len(plan.picks)} paper(s) of "
          f"{plan.candidates} new, {len(plan.skipped)} over the maximum of {channel.max_papers}; strictness "
          f"{channel.strictness_label}")
    records = service.archive.get_many(p.paper_id for p in plan.picks)
    for position, pick in enumerate(plan.picks, 1):
        record = records.get(pick.paper_id)
        title = " ".join(str((record.get("title") if record else "") or "").split())
        print(f"  {position:2d}. {pick.paper_id:<16} {title[:90]}  [{pick.topic}; {pick.score:.2f}]")


def handle(args: argparse.Namespace, settings: Settings) -> int:
    if args.dry_run:
        return _dry_run(args, settings)
    # The bot token by the same rule as `paperbot run` (a .env.example placeholder or a non-bot token is a
    # configuration error), before anything is opened or written.
    problem = next((p for p in settings.slack_problems() if p.variable == "SLACK_BOT_TOKEN"), None)
    if problem is not None and not problem.placeholder and settings.slack_value("SLACK_BOT_TOKEN") is None:
        raise CommandError("posting digests needs SLACK_BOT_TOKEN (or use --dry-run)", status=2)
    if problem is not None:
        raise problem
    from bot.services import Services

    services = Services.open_for_slack(settings)  # the writer lock: refuses while `paperbot run` holds it
    try:
        service = services.digests
        failed = 0
        channels = _channels(service, args.channel)
        # One planning pass for all channels (one archive snapshot, each topic matched once), as the scheduler.
        fresh = [(c, service.today(c)) for c in channels if service.ledger.get(c.channel, service.today(c)) is None]
        plans = service.plan(fresh, service.clock())
        for channel in channels:
            day = service.today(channel)
            result = service.run(channel, day, trigger="cli", plan=plans.get((channel.channel, day)))
            detail = f"{result.posted} posted of {result.planned}"
            if result.error:
                detail += f"; {result.error}"
            print(f"{channel.channel} {result.day.isoformat()}: {result.status} ({detail})", flush=True)
            failed += result.status in ("incomplete", "paused")
    except KeyboardInterrupt:
        print("paperbot: interrupted; run it again to resume the digest", file=sys.stderr)
        return 130
    finally:
        services.close()
    return 1 if failed else 0


def _dry_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import ReadOnlyServices

    with ReadOnlyServices.open(settings) as services:
        service = services.digests
        for channel in _channels(service, args.channel):
            plan, next_digest = service.preview(channel)
            _print_plan(service, channel, plan, next_digest)
    return 0
