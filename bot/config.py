"""Settings from the environment (and `.env`), validated once at start-up.

Every problem is reported as a `ConfigError` naming the variable and what was expected, so the CLI can
print one line instead of a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.digest.strictness import DEFAULT_STRICTNESS, Strictness, StrictnessError, parse_strictness

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_HF_API_URL = "https://huggingface.co/api"
DEFAULT_ARXIV_API_URL = "https://export.arxiv.org/api/query"


# The example values of .env.example: a copied file that was not filled in must not look configured.
PLACEHOLDERS = {"SLACK_BOT_TOKEN": "xoxb-your-bot-token", "SLACK_SIGNING_SECRET": "your-signing-secret"}
NEWCOMER_HINT = "new here? copy .env.example to .env and fill in the Slack values"


def is_placeholder(name: str, value: str | None) -> bool:
    """True for the value .env.example ships for `name` (or one like it: nothing real contains "your-")."""
    return name in PLACEHOLDERS and value is not None and (value == PLACEHOLDERS[name] or "your-" in value.casefold())


class ConfigError(Exception):
    """A missing or malformed setting; str() is the one line shown to the operator: `detail`, then `hint`."""

    def __init__(self, variable: str, expected: str, got: str | None = None, *, detail: str | None = None,
                 hint: str | None = None, placeholder: bool = False) -> None:
        self.variable = variable
        self.placeholder = placeholder
        if detail is None:
            detail = f"{variable} must be {expected}"
            if got is not None:
                detail += f" (got {got!r})"
        self.detail = detail
        self.hint = hint
        super().__init__(f"{detail} — {hint}" if hint else detail)


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    hf_api_url: str
    arxiv_api_url: str
    data_dir: Path
    host: str
    port: int
    tz: str
    arxiv_delay: float
    http_timeout: float
    http_retries: int
    http_backoff: float
    log_level: str
    admins: frozenset[str]
    save_emojis: tuple[str, ...]
    command: str
    digest_time: time = time(9, 0)
    digest_max_papers: int = 10
    digest_post_empty: bool = False
    digest_strictness: Strictness = DEFAULT_STRICTNESS  # a level name (strict, normal, broad) or a minimum score
    post_interval: float = 1.0
    not_relevant_emojis: tuple[str, ...] = ("-1",)  # reactions that mark a posted paper not relevant (:-1:)
    embeddings: str = "auto"  # "auto" (the bundled model if installed), "off", or a model folder

    def require_slack(self) -> None:
        """Fail unless the Slack credentials needed to serve are present and well-formed."""
        problems = self.slack_problems()
        if problems:
            raise problems[0]

    def slack_problems(self) -> list[ConfigError]:
        """Everything wrong with the Slack credentials needed to serve (`paperbot doctor` lists them all)."""
        problems = []
        bot_token, signing_secret = self.slack_value("SLACK_BOT_TOKEN"), self.slack_value("SLACK_SIGNING_SECRET")
        if is_placeholder("SLACK_BOT_TOKEN", self.slack_bot_token):
            problems.append(_placeholder("SLACK_BOT_TOKEN", "the app's bot token (xoxb-...)"))
        elif not bot_token:
            problems.append(ConfigError("SLACK_BOT_TOKEN", "set to the app's bot token (xoxb-...)", hint=NEWCOMER_HINT))
        elif not bot_token.startswith("xoxb-"):
            problems.append(ConfigError("SLACK_BOT_TOKEN", "a bot token starting with 'xoxb-'",
                                        redact(bot_token)))
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            problems.append(ConfigError("SLACK_APP_TOKEN", "an app-level token starting with 'xapp-', or unset for "
                                        "HTTP mode", redact(self.slack_app_token)))
        if not self.slack_app_token and is_placeholder("SLACK_SIGNING_SECRET", self.slack_signing_secret):
            problems.append(_placeholder("SLACK_SIGNING_SECRET", "the app's signing secret"))
        elif not self.slack_app_token and not signing_secret:
            problems.append(ConfigError("SLACK_SIGNING_SECRET", "set (HTTP mode verifies every request with it)",
                                        hint=NEWCOMER_HINT))
        elif signing_secret is not None and len(signing_secret.strip()) < 8:
            problems.append(ConfigError("SLACK_SIGNING_SECRET", "the app's signing secret (32 hex characters)",
                                        "<too short>"))
        return problems

    def slack_value(self, name: str) -> str | None:
        """A Slack variable's value, None when it is unset or still the .env.example placeholder."""
        value: str | None = {"SLACK_BOT_TOKEN": self.slack_bot_token, "SLACK_SIGNING_SECRET": self.slack_signing_secret,
                             "SLACK_APP_TOKEN": self.slack_app_token}[name]
        return None if is_placeholder(name, value) else value


def _placeholder(variable: str, wanted: str) -> ConfigError:
    return ConfigError(variable, "", detail=f"{variable} is still the placeholder from .env.example",
                       hint=f"replace it with {wanted}", placeholder=True)


def redact(token: str) -> str:
    return token[:5] + "…" if len(token) > 5 else "…"


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = _get(env, name) or default
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(name, "an http(s) URL", value)
    return value


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float, maximum: float,
            integer: bool = False) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise ConfigError(name, f"{kind} from {minimum:g} to {maximum:g}", raw) from None
    if not minimum <= value <= maximum:
        kind = "an integer" if integer else "a number"
        raise ConfigError(name, f"{kind} from {minimum:g} to {maximum:g}", raw)
    return value


def _clock_time(env: Mapping[str, str], name: str, default: time) -> time:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        hours, minutes = raw.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(name, "a 24-hour time such as 09:00", raw) from None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name)
    if raw is None:
        return default
    value = raw.casefold()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, "true or false", raw)


def _strictness(env: Mapping[str, str], name: str) -> Strictness:
    raw = _get(env, name)
    if raw is None:
        return DEFAULT_STRICTNESS
    try:
        return parse_strictness(raw)
    except StrictnessError:
        raise ConfigError(name, "strict, normal, broad or a minimum score from 0 to 1 (0.6 or 60%)", raw) from None


def _embeddings(env: Mapping[str, str], name: str) -> str:
    """`auto`, `off`, or a folder holding a sentence-transformers BERT model (config.json, model.safetensors,
    tokenizer.json)."""
    value = _get(env, name) or "auto"
    if value.lower() in ("auto", "off"):
        return value.lower()
    folder = Path(value).expanduser()
    if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
        raise ConfigError(name, "auto, off, or a folder with model.safetensors and tokenizer.json", value)
    return str(folder)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env` (default: the process environment, after loading `.env`)."""
    if env is None:
        from dotenv import find_dotenv, load_dotenv

        load_dotenv(find_dotenv(usecwd=True), override=False)  # the .env of the folder paperbot runs in
        env = os.environ

    tz = _get(env, "PAPERBOT_TZ") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("PAPERBOT_TZ", "an IANA time zone such as Europe/Berlin", tz) from None

    log_level = (_get(env, "PAPERBOT_LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("PAPERBOT_LOG_LEVEL", "one of DEBUG, INFO, WARNING, ERROR", log_level)

    admins_raw = _get(env, "PAPERBOT_ADMINS") or ""
    admins = frozenset(a.strip() for a in admins_raw.replace(" ", ",").split(",") if a.strip())
    for admin in admins:
        if admin[:1] not in ("U", "W") or not admin.isalnum():
            raise ConfigError("PAPERBOT_ADMINS", "a comma-separated list of Slack user ids (U…)", admin)

    emojis_raw = _get(env, "PAPERBOT_SAVE_EMOJI") or "bookmark"
    save_emojis = tuple(e.strip().strip(":") for e in emojis_raw.split(",") if e.strip().strip(":"))
    if not save_emojis:
        raise ConfigError("PAPERBOT_SAVE_EMOJI", "a comma-separated list of emoji names", emojis_raw)

    not_relevant_raw = _get(env, "PAPERBOT_NOT_RELEVANT_EMOJI") or "-1"
    not_relevant_emojis = tuple(e.strip().strip(":") for e in not_relevant_raw.split(",") if e.strip().strip(":"))
    if not not_relevant_emojis:
        raise ConfigError("PAPERBOT_NOT_RELEVANT_EMOJI", "a comma-separated list of emoji names", not_relevant_raw)
    if both := sorted(set(not_relevant_emojis) & set(save_emojis)):
        raise ConfigError("PAPERBOT_NOT_RELEVANT_EMOJI", "emoji names that are not also in PAPERBOT_SAVE_EMOJI",
                          ",".join(both))

    command = _get(env, "PAPERBOT_COMMAND") or "/papers"
    if not command.startswith("/") or len(command) < 2 or " " in command:
        raise ConfigError("PAPERBOT_COMMAND", "a slash command such as /papers", command)

    return Settings(
        digest_time=_clock_time(env, "PAPERBOT_DIGEST_TIME", time(9, 0)),
        digest_max_papers=int(_number(env, "PAPERBOT_DIGEST_MAX", 10, minimum=1, maximum=25, integer=True)),
        digest_post_empty=_flag(env, "PAPERBOT_DIGEST_POST_EMPTY", False),
        digest_strictness=_strictness(env, "PAPERBOT_DIGEST_STRICTNESS"),
        post_interval=_number(env, "PAPERBOT_POST_INTERVAL", 1.0, minimum=0, maximum=60),
        embeddings=_embeddings(env, "PAPERBOT_EMBEDDINGS"),
        slack_bot_token=_get(env, "SLACK_BOT_TOKEN"),
        slack_signing_secret=_get(env, "SLACK_SIGNING_SECRET"),
        slack_app_token=_get(env, "SLACK_APP_TOKEN"),
        slack_api_url=_url(env, "SLACK_API_URL", DEFAULT_SLACK_API_URL),
        hf_api_url=_url(env, "HF_API_URL", DEFAULT_HF_API_URL).rstrip("/"),
        arxiv_api_url=_url(env, "ARXIV_API_URL", DEFAULT_ARXIV_API_URL),
        data_dir=Path(_get(env, "PAPERBOT_DATA_DIR") or "./data"),
        host=_get(env, "PAPERBOT_HOST") or "127.0.0.1",
        port=int(_number(env, "PORT", 3000, minimum=1, maximum=65535, integer=True)),
        tz=tz,
        arxiv_delay=_number(env, "PAPERBOT_ARXIV_DELAY", 3.0, minimum=0, maximum=600),
        http_timeout=_number(env, "PAPERBOT_HTTP_TIMEOUT", 20.0, minimum=0.1, maximum=600),
        http_retries=int(_number(env, "PAPERBOT_HTTP_RETRIES", 3, minimum=0, maximum=10, integer=True)),
        http_backoff=_number(env, "PAPERBOT_HTTP_BACKOFF", 1.0, minimum=0, maximum=60),
        log_level=log_level,
        admins=admins,
        save_emojis=save_emojis,
        not_relevant_emojis=not_relevant_emojis,
        command=command,
    )
