""""Not relevant" end to end: signed Slack clicks and events -> waitress -> Bolt -> paperbot -> the Slack emulator.

Each test asserts what a person would notice, and what the channel's feedback holds on disk the moment Slack
got its 200: the real digest's Not relevant button, the answer only they see with its Undo, and the :-1:
reaction that marks a paper and, taken off, unmarks it, however Slack redelivers those events.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from slack_driver import SlackStack, buttons, wait_until

from bot.papers import new_record
from bot.store.tinydb.feedback import FeedbackStore
from bot.store.tinydb.files import DataDir

pytestmark = pytest.mark.e2e

FAST = {"PAPERBOT_POST_INTERVAL": "0"}  # the pacing of posts is not what is tested
EVIL = "<!channel> Sparse autoencoders <@U0ATTACKER> & <https://evil.example|click>"


def corpus() -> list[dict[str, Any]]:
    return [
        new_record("2405.20001", source="hf", title="Sparse autoencoders find interpretable features",
                   abstract="Sparse autoencoders learn dictionaries of features from language model activations; "
                            "sparse autoencoders scale.", authors=["Chris Olah"], upvotes=30),
        new_record("2405.20002", source="hf", title=EVIL,
                   abstract="Sparse autoencoders, again: sparse autoencoders on vision transformers.",
                   authors=["Mallory"], upvotes=5),
        new_record("2405.20003", source="arxiv", title="Graph neural networks for molecules",
                   abstract="Message passing on molecular graphs.", authors=["Ada Lovelace"]),
    ]


def texts(message: dict[str, Any]) -> str:
    parts = [message.get("text", "")]
    for block in message.get("blocks", []) or []:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
    return "\n".join(parts)


def on_disk(stack: SlackStack, channel: str = "C0GENERAL") -> list[tuple[str, str, str]]:
    """The channel's feedback as the file holds it, read by a second opener as a restarted bot would."""
    with DataDir(Path(stack.settings.data_dir), read_only=True) as data:
        return [(f.paper_id, f.user, f.via) for f in FeedbackStore(data.store("feedback")).in_channel(channel)]


def ephemerals_to(stack: SlackStack, user: str, count: int = 1) -> list[dict[str, Any]]:
    return wait_until(lambda: (found := [e for e in stack.slack.ephemerals if e["user"] == user])
                      and len(found) >= count and found)


def post_digest(stack: SlackStack) -> dict[str, dict[str, Any]]:
    """Watch a topic and post today's digest in #general for real; the paper replies by paper id."""
    stack.driver.ask("watch sparse autoencoders")
    assert stack.driver.command("digest").response.status_code == 200
    stack.settle(30)  # the digest is posted by the command's work
    replies = [m for m in stack.slack.messages.get("C0GENERAL", []) if m.get("thread_ts")]
    posted = {buttons(m, "paper_not_relevant")[0][1]["value"]: m for m in replies}
    assert len(posted) == len(replies) >= 2, "every paper reply has its Not relevant button"
    return posted


def click(stack: SlackStack, message: dict[str, Any], action: str, user: str = "U0BOB", *,
          ephemeral: bool = False) -> Any:
    block_id, button = buttons(message, action)[0]
    sent = stack.driver.click(button, user_id=user, block_id=block_id, ephemeral=ephemeral, message=message)
    assert sent.response.status_code == 200
    return sent


def react(stack: SlackStack, user: str, ts: str, *, event_ts: str, removed: bool = False,
          reaction: str = "-1", event_id: str | None = None) -> None:
    event = {"type": "reaction_removed" if removed else "reaction_added", "user": user, "reaction": reaction,
             "item_user": stack.slack.bot_user_id, "item": {"type": "message", "channel": "C0GENERAL", "ts": ts},
             "event_ts": event_ts}
    assert stack.driver.event(event, event_id=event_id).response.status_code == 200


@pytest.fixture
def stack(slack_stack_factory: Any) -> SlackStack:
    return slack_stack_factory(corpus(), env=FAST)


def test_not_relevant_on_a_digest_paper_is_stored_before_the_ack_and_answered_only_to_the_clicker(
        stack: SlackStack) -> None:
    posted = post_digest(stack)
    assert "2405.20003" not in posted
    sent = click(stack, posted["2405.20001"], "paper_not_relevant")
    assert on_disk(stack) == [("2405.20001", "U0BOB", "button")], "on disk when Slack got its 200"
    [answer] = stack.slack.wait_for_responses(sent.response_url)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "Noted: fewer papers like" in texts(answer) and "Sparse autoencoders find" in texts(answer)
    assert "<#C0GENERAL>" in texts(answer)
    messages_before = len(stack.slack.messages["C0GENERAL"])

    again = click(stack, posted["2405.20001"], "paper_not_relevant")  # a double click: still marked
    [second] = stack.slack.wait_for_responses(again.response_url)
    assert "already marked" in texts(second) and on_disk(stack) == [("2405.20001", "U0BOB", "button")]

    undo = click(stack, answer, "paper_not_relevant_undo", ephemeral=True)
    assert on_disk(stack) == []
    [undone] = stack.slack.wait_for_responses(undo.response_url)
    assert undone["replace_original"] is True and "Undone" in texts(undone)
    assert len(stack.slack.messages["C0GENERAL"]) == messages_before, "nothing was said in the channel"
    assert stack.slack.broadcast_mentions() == []


def test_the_answer_never_pings_anyone(stack: SlackStack) -> None:
    posted = post_digest(stack)
    sent = click(stack, posted["2405.20002"], "paper_not_relevant")
    [answer] = stack.slack.wait_for_responses(sent.response_url)
    assert "&lt;!channel&gt;" in texts(answer)
    assert stack.slack.broadcast_mentions() == []


def test_a_button_for_a_paper_never_posted_in_that_channel_notes_nothing(stack: SlackStack) -> None:
    button = {"action_id": "paper_not_relevant", "text": {"type": "plain_text", "text": "Not relevant"},
              "value": "2405.20003"}
    sent = stack.driver.click(button, user_id="U0BOB", ephemeral=False)
    assert sent.response.status_code == 200
    [answer] = stack.slack.wait_for_responses(sent.response_url)
    assert "noted nothing" in texts(answer)
    assert on_disk(stack) == []


def test_a_thumbs_down_marks_the_paper_and_taking_it_off_unmarks_it(stack: SlackStack) -> None:
    posted = post_digest(stack)
    ts = posted["2405.20001"]["ts"]
    react(stack, "U0CAROL", ts, event_ts="1716200000.000100", reaction="-1::skin-tone-4")
    assert on_disk(stack) == [("2405.20001", "U0CAROL", "reaction")], "on disk when Slack got its 200"
    [noted] = ephemerals_to(stack, "U0CAROL")
    assert noted["channel"] == "C0GENERAL" and "Noted: fewer papers like" in texts(noted)
    assert ":-1:" in texts(noted) and stack.services.saves.saved("U0CAROL") == [], "not a save"

    react(stack, "U0CAROL", ts, event_ts="1716200000.000200", removed=True)
    assert on_disk(stack) == []
    notes = ephemerals_to(stack, "U0CAROL", 2)
    assert "Undone" in texts(notes[1])


def test_a_reaction_added_delivered_again_after_its_removal_does_not_mark_it_again(stack: SlackStack) -> None:
    posted = post_digest(stack)
    ts = posted["2405.20001"]["ts"]
    react(stack, "U0CAROL", ts, event_ts="1716200000.000100", event_id="Ev0DOWN1")
    stack.settle()
    react(stack, "U0CAROL", ts, event_ts="1716200000.000200", removed=True, event_id="Ev0UP1")
    stack.settle()
    told = len([e for e in stack.slack.ephemerals if e["user"] == "U0CAROL"])
    react(stack, "U0CAROL", ts, event_ts="1716200000.000100", event_id="Ev0DOWN1")  # Slack's redelivery
    react(stack, "U0CAROL", ts, event_ts="1716200000.000100")  # and again, under a new id
    stack.settle()
    assert on_disk(stack) == [], "the removal came after the add: it wins"
    assert len([e for e in stack.slack.ephemerals if e["user"] == "U0CAROL"]) == told, "nobody is told again"


def test_other_reactions_and_other_messages_mark_nothing(stack: SlackStack) -> None:
    posted = post_digest(stack)
    react(stack, "U0CAROL", posted["2405.20001"]["ts"], event_ts="1716200000.000100", reaction="thumbsup")
    person = stack.slack.add_message("C0GENERAL", "https://arxiv.org/abs/2405.20001", user="U0DAVE")
    react(stack, "U0CAROL", person, event_ts="1716200000.000200")
    stack.settle()
    assert on_disk(stack) == [] and not [e for e in stack.slack.ephemerals if e["user"] == "U0CAROL"]


def test_a_configured_emoji_marks_and_the_default_then_does_not(slack_stack_factory: Any) -> None:
    stack = slack_stack_factory(corpus(), env={**FAST, "PAPERBOT_NOT_RELEVANT_EMOJI": ":no_entry:, wastebasket"})
    posted = post_digest(stack)
    ts = posted["2405.20001"]["ts"]
    react(stack, "U0CAROL", ts, event_ts="1716200000.000100")  # -1 is not configured any more
    react(stack, "U0DAVE", ts, event_ts="1716200000.000200", reaction="wastebasket")
    assert on_disk(stack) == [("2405.20001", "U0DAVE", "reaction")]
    [noted] = ephemerals_to(stack, "U0DAVE")
    assert "Remove your :wastebasket:" in texts(noted)


def test_a_mark_that_cannot_be_written_is_not_acknowledged_and_slacks_retry_marks_it(
        stack: SlackStack, monkeypatch: pytest.MonkeyPatch) -> None:
    posted = post_digest(stack)
    feedback = stack.services.feedback
    real_commit = feedback._commit

    def disk_full_once(*args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(feedback, "_commit", real_commit)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(feedback, "_commit", disk_full_once)
    event = {"type": "reaction_added", "user": "U0CAROL", "reaction": "-1", "item_user": stack.slack.bot_user_id,
             "item": {"type": "message", "channel": "C0GENERAL", "ts": posted["2405.20001"]["ts"]},
             "event_ts": f"{time.time():.6f}"}
    failed = stack.driver.event(event, event_id="Ev0FULL1")
    assert failed.response.status_code == 500, "Slack must retry: nothing was noted"
    assert on_disk(stack) == []
    assert stack.driver.event(event, event_id="Ev0FULL1", retry_num=1).response.status_code == 200
    assert on_disk(stack) == [("2405.20001", "U0CAROL", "reaction")]
    assert len(ephemerals_to(stack, "U0CAROL")) == 1
