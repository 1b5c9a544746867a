"""paperbot: daily paper digests, a searchable paper archive and shared reading lists for Slack."""

__version__ = "0.1.0"
