"""The shapes of Slack ids: channels (C…, private G…, direct-message D…) and users (U…, enterprise W…)."""

from __future__ import annotations

import re

_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,30}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


def is_channel_id(text: str) -> bool:
    return bool(_CHANNEL_ID.fullmatch(text))


def is_user_id(text: str) -> bool:
    return bool(_USER_ID.fullmatch(text))
