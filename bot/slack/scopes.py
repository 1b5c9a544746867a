"""The bot token scopes paperbot needs, each with the reason: what breaks without it.

The one list three things agree on: `deploy/manifest.yml` / `manifest.http.yml` (oauth_config.scopes.bot,
with the same reasons as comments), `paperbot doctor` (compares it with the scopes Slack says the token has)
and tests/test_manifest.py (checks the manifests and the Web API methods and events the code uses against it).
"""

from __future__ import annotations

REQUIRED_SCOPES: dict[str, str] = {
    "commands": "the /papers slash command",
    "chat:write": "posting digests and shared papers, and ephemeral confirmations (chat.postMessage, "
                  "chat.postEphemeral)",
    "reactions:read": "the save reaction (reaction_added / reaction_removed events)",
    "channels:history": "public channels: reading the message someone reacted to, and finding a digest posted "
                        "before a restart (conversations.history / replies); message.channels events to archive "
                        "shared paper links",
    "groups:history": "private channels: the same (conversations.history / replies, message.groups events)",
    "channels:read": "the App Home: which public channels the user is in (conversations.members)",
    "groups:read": "the App Home: which private channels the user is in (conversations.members)",
    "im:write": "opening a DM with the user to send the BibTeX export (conversations.open)",
    "files:write": "uploading the BibTeX export (files.getUploadURLExternal / completeUploadExternal)",
}
