"""Everything Slack-specific: the Bolt app, its listeners, Block Kit rendering and the HTTP / Socket Mode servers.

The core (archive, search, channel settings) knows nothing about Slack; this package parses what Slack sends,
calls the core and renders the answer.
"""
