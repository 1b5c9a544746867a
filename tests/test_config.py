"""Settings: defaults, and one clear line naming the variable for every bad value."""

from pathlib import Path

import pytest
from cli_runner import ROOT, settings_environment

from bot.config import ConfigError, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.hf_api_url == "https://huggingface.co/api"
    assert settings.arxiv_api_url == "https://export.arxiv.org/api/query"
    assert settings.data_dir == Path("./data")
    assert settings.port == 3000
    assert settings.tz == "UTC"
    assert settings.arxiv_delay == 3.0
    assert settings.save_emojis == ("bookmark",)
    assert settings.command == "/papers"
    assert (settings.digest_time.hour, settings.digest_time.minute) == (9, 0)
    assert settings.digest_max_papers == 10 and settings.digest_post_empty is False
    assert settings.post_interval == 1.0


def test_digest_settings_are_read() -> None:
    settings = load_settings({"PAPERBOT_DIGEST_TIME": "7:30", "PAPERBOT_DIGEST_MAX": "5",
                              "PAPERBOT_DIGEST_POST_EMPTY": "yes", "PAPERBOT_POST_INTERVAL": "1.5"})
    assert (settings.digest_time.hour, settings.digest_time.minute) == (7, 30)
    assert settings.digest_max_papers == 5 and settings.digest_post_empty is True
    assert settings.post_interval == 1.5


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PORT": "abc"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"PAPERBOT_TZ": "Mars/Olympus"}, "PAPERBOT_TZ"),
        ({"HF_API_URL": "ftp://x"}, "HF_API_URL"),
        ({"SLACK_API_URL": "not a url"}, "SLACK_API_URL"),
        ({"PAPERBOT_ARXIV_DELAY": "-1"}, "PAPERBOT_ARXIV_DELAY"),
        ({"PAPERBOT_ADMINS": "alice"}, "PAPERBOT_ADMINS"),
        ({"PAPERBOT_COMMAND": "papers"}, "PAPERBOT_COMMAND"),
        ({"PAPERBOT_LOG_LEVEL": "LOUD"}, "PAPERBOT_LOG_LEVEL"),
        ({"PAPERBOT_DIGEST_TIME": "25:00"}, "PAPERBOT_DIGEST_TIME"),
        ({"PAPERBOT_DIGEST_TIME": "nine"}, "PAPERBOT_DIGEST_TIME"),
        ({"PAPERBOT_DIGEST_MAX": "0"}, "PAPERBOT_DIGEST_MAX"),
        ({"PAPERBOT_DIGEST_MAX": "26"}, "PAPERBOT_DIGEST_MAX"),
        ({"PAPERBOT_DIGEST_POST_EMPTY": "maybe"}, "PAPERBOT_DIGEST_POST_EMPTY"),
        ({"PAPERBOT_POST_INTERVAL": "-1"}, "PAPERBOT_POST_INTERVAL"),
    ],
)
def test_malformed_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert info.value.variable == variable
    assert str(info.value).startswith(f"{variable} must be")


def test_slack_credentials_checked_only_when_serving() -> None:
    settings = load_settings({})
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        settings.require_slack()
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        load_settings({"SLACK_BOT_TOKEN": "xapp-wrong-kind"}).require_slack()
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1-2-abc"}).require_slack()
    load_settings({"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "0123456789abcdef"}).require_slack()
    load_settings({"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A-1-abc"}).require_slack()


def test_the_env_file_of_the_working_directory_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("PAPERBOT_COMMAND=/lab\n")
    with settings_environment(monkeypatch, {}, tmp_path):
        assert load_settings().command == "/lab"


def test_the_placeholders_of_env_example_count_as_not_set() -> None:
    example = {name: value for name, _, value in (line.partition("=") for line in
               (ROOT / ".env.example").read_text().splitlines() if line and not line.startswith("#"))}
    settings = load_settings(example)
    problems = {exc.variable: str(exc) for exc in settings.slack_problems()}
    assert set(problems) == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}
    assert "placeholder from .env.example" in problems["SLACK_BOT_TOKEN"]
    assert "placeholder from .env.example" in problems["SLACK_SIGNING_SECRET"]
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        settings.require_slack()


def test_a_missing_token_tells_a_newcomer_to_copy_env_example() -> None:
    with pytest.raises(ConfigError, match=r"copy \.env\.example to \.env"):
        load_settings({}).require_slack()
