"""The configuration front doors: strict and lenient, paths and text, never a silent failure."""

from __future__ import annotations

from pathlib import Path

import pytest

import routekit
from routekit.config import (
    Configuration,
    load_config,
    loads_config,
    read_config,
    read_text_file,
    reads_config,
)
from routekit.errors import ConfigError

GOOD = '[http.routers.a]\nrule = "Host(`a.io`)"\nservice = "s"\n' + (
    '[[http.services.s.loadBalancer.servers]]\nurl = "http://127.0.0.1:1"\n'
)


def test_strict_text_with_a_syntax_error_raises_with_the_position() -> None:
    with pytest.raises(ConfigError) as info:
        loads_config('[http.routers.a\nrule = "x"\n', source="d.toml")
    [problem] = info.value.problems
    assert problem.source is not None and problem.source.startswith("d.toml:1:")
    assert "not valid TOML" in problem.message


def test_strict_text_with_a_broken_element_raises_and_lenient_keeps_the_rest() -> None:
    text = GOOD + '[http.routers.b]\nrule = "Host(`b.io`)"\nservice = "missing"\n'
    with pytest.raises(ConfigError, match="missing"):
        loads_config(text)
    result = reads_config(text)
    assert list(result.config.http.routers) == ["a"]
    assert [p.path for p in result.errors] == ["http.routers.b.service"]


def test_good_text_and_file_give_the_same_configuration(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text(GOOD)
    assert load_config(path) == loads_config(GOOD)
    assert load_config(str(path)) == loads_config(GOOD)
    assert isinstance(load_config(path), Configuration)


def test_a_file_name_that_looks_like_toml_is_still_a_file(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    odd = conf / "[x]=y.toml"
    odd.write_text(GOOD)
    assert list(load_config(str(odd)).http.routers) == ["a"]


def test_text_is_never_taken_for_a_file_name(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text(GOOD)
    # The text "x.toml" is TOML (a bare key without a value): an error, not the file's content.
    with pytest.raises(ConfigError, match="not valid TOML"):
        loads_config("x.toml")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'[http.routers.a]\nrule = "Host(`\xff`)"\n', "not UTF-8 text: byte 0xff"),
        (b"a = 1\n\x00", "NUL"),
    ],
)
def test_unreadable_bytes_are_located_problems(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    result = read_config(path)
    [problem] = result.errors
    assert expected in problem.message
    assert problem.source is not None and problem.source.startswith(f"{path}:")
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_the_utf8_error_points_at_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b"a = 1\nb = '\xfe'\n")
    [problem] = read_config(path).errors
    assert problem.source == f"{path}:2:6"


@pytest.mark.parametrize("name", ["", "\x00", "does/not/exist.toml"])
def test_missing_or_impossible_file_names_are_config_errors(name: str) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(name)
    assert read_config(name).errors
    with pytest.raises(ConfigError):
        read_text_file(name)


def test_the_top_level_pair_types_precisely() -> None:
    config = routekit.loads_config(GOOD)
    # `http` is there without a cast: the return type is Configuration, not a union.
    assert config.http.routers["a"].service == "s"
    assert routekit.reads_config("").config == Configuration()
