"""Value types of the repositories (bot/store/models.py): backend-neutral keys and timestamps."""

from __future__ import annotations

from bot.store.models import Pending, Save, base_emoji, pending_key, reaction_anchor, timestamp


def test_base_emoji() -> None:
    assert base_emoji("thumbsup::skin-tone-2") == "thumbsup"
    assert base_emoji(":bookmark:") == "bookmark"


def test_keys_name_the_reaction_without_its_skin_tone() -> None:
    assert reaction_anchor("C1", "1.1", "bookmark::skin-tone-2") == "C1:1.1:bookmark"
    assert pending_key("U1", "C1", "1.1", ":bookmark:") == "U1:C1:1.1:bookmark"


def test_every_stored_time_has_one_format_so_string_order_is_time_order() -> None:
    assert timestamp("2026-11-24T10:00:00Z") == "2026-11-24T10:00:00.000000Z"
    assert timestamp("2026-11-24T11:00:00+01:00") == "2026-11-24T10:00:00.000000Z"
    assert timestamp("2026-11-24T10:00:00") == "2026-11-24T10:00:00.000000Z"
    assert len(timestamp(None)) == len("2026-11-24T10:00:00.000000Z")


def test_documents_round_trip_and_old_ones_load() -> None:
    save = Save(user="U1", paper_id="2405.12345", channel="C1", ts="1.1", saved_at="2026-11-24T10:00:00.000000Z",
                via="reaction", reactions=("C1:1.1:bookmark",), kept=False)
    assert Save.from_doc(save.to_doc()) == save
    old = Save.from_doc({"user": "U1", "paper_id": "2405.12345", "saved_at": "2026-11-24T10:00:00.000000Z"})
    assert (old.via, old.reactions, old.kept, old.channel) == ("button", (), False, None)
    pending = Pending(user="U1", channel="C1", ts="1.1", reaction="bookmark", received_at="x", attempts=2)
    assert Pending.from_doc(pending.to_doc()) == pending
