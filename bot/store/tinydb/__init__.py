"""The TinyDB backend: one JSON file per concern under the data directory (bot.store.tinydb.files), no server needed."""
