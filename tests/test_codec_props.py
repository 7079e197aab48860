"""Every codec reads back what it writes, for configurations using every option of the model."""

from __future__ import annotations

from hypothesis import given, settings

from routekit.config import Configuration, config_to_kv, dumps_dynamic, kv_to_config, loads_dynamic
from routekit.testing import configurations


@settings(max_examples=200, deadline=None)
@given(configurations())
def test_kv_round_trip(config: Configuration) -> None:
    again, problems = kv_to_config(config_to_kv(config))
    assert problems == ()
    assert again == config


@settings(max_examples=200, deadline=None)
@given(configurations())
def test_toml_round_trip(config: Configuration) -> None:
    text = dumps_dynamic(config)
    again, problems = loads_dynamic(text, source="d.toml")
    assert problems == []
    assert again == config
    # Writing into the file it came from changes nothing.
    assert dumps_dynamic(config, into=text) == text
