"""Logging set-up: one line per event, `key=value` pairs after the event name, easy to grep."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Library chatter at INFO is noise for an operator; their warnings still show.
NOISY_LOGGERS = ("urllib3", "slack_bolt", "slack_sdk", "apscheduler", "waitress")


def configure(level: str = "INFO") -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
