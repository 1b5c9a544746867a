"""PAPERBOT_NOT_RELEVANT_EMOJI: the reactions that mark a paper the bot posted as not relevant to the channel."""

import pytest

from bot.config import ConfigError, load_settings


def test_thumbs_down_by_default_and_a_list_like_the_save_emojis() -> None:
    assert load_settings({}).not_relevant_emojis == ("-1",)
    assert load_settings({"PAPERBOT_NOT_RELEVANT_EMOJI": ":-1:, no_entry ,"}).not_relevant_emojis == ("-1", "no_entry")


@pytest.mark.parametrize(("env", "expected"), [
    ({"PAPERBOT_NOT_RELEVANT_EMOJI": ", ::"}, "comma-separated list of emoji names"),
    ({"PAPERBOT_NOT_RELEVANT_EMOJI": "-1,bookmark"}, "not also in PAPERBOT_SAVE_EMOJI (got 'bookmark')"),
    ({"PAPERBOT_SAVE_EMOJI": "star,-1"}, "not also in PAPERBOT_SAVE_EMOJI (got '-1')"),
])
def test_a_bad_value_names_the_variable(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.variable == "PAPERBOT_NOT_RELEVANT_EMOJI" and expected in str(caught.value)
