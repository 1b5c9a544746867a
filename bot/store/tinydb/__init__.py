"""The TinyDB backend: one JSON file per concern under the data directory (bot.store.files), no server needed."""
