"""careersite.config: config.yaml validated once into a frozen record."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from careersite.config import DEFAULT_URLS, DEFAULT_WORDS, SCHEMA, Config, load_config
from careersite.errors import ConfigError


def write(tmp_path: Path, text: str | bytes, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def errors(tmp_path: Path, text: str | bytes) -> list[str]:
    """Every problem as 'line:column: message | hint'."""
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return [f"{p.line}:{p.column}: {p.message} | {p.hint}" for p in info.value.problems]


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert isinstance(config, Config)
    assert (config.locale, config.language, config.currency, config.period) == ("de_DE", "de", "EUR", "month")
    assert config.raw_html is False and config.drafts is False and config.search is True
    assert config.content_dir == tmp_path / "content"
    assert config.output_dir == tmp_path / "output"
    assert dict(config.urls) == dict(DEFAULT_URLS)
    assert dict(config.words) == dict(DEFAULT_WORDS)
    assert config.source is None


def test_a_full_valid_file(tmp_path):
    path = write(tmp_path, """\
title: Karriere-Atlas Ruhr
description: Berufe im Revier
base_url: https://example.org/karriere
language: de-AT
locale: de-AT
currency: eur
period: year
raw_html: true
content_dir: texte
templates_dir: theme
output_dir: ../public
cache_dir: .cache
latest_count: 5
feed_entries: 50
hub_page_size: 20
toc_min_headings: 2
search: false
urls:
  article: "{city}/{role}.html"
words:
  home: Startseite
""")
    config = load_config(path)
    assert config.title == "Karriere-Atlas Ruhr"
    assert config.base_url == "https://example.org/karriere/"  # always ends in "/"
    assert (config.language, config.locale, config.currency, config.period) == ("de-AT", "de_AT", "EUR", "year")
    assert config.raw_html is True and config.search is False
    assert config.content_dir == tmp_path / "texte"
    assert config.output_dir == (tmp_path / "../public").resolve()
    assert (config.latest_count, config.feed_entries, config.hub_page_size, config.toc_min_headings) == (5, 50, 20, 2)
    assert config.urls["article"] == "{city}/{role}.html" and config.urls["city"] == "{city}/"
    assert config.words["home"] == "Startseite" and config.words["city"] == "Stadt"
    assert config.source == path


def test_config_is_frozen(tmp_path):
    config = load_config(write(tmp_path, "title: X\n"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.title = "Y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.words["home"] = "Y"  # type: ignore[index]
    with pytest.raises(TypeError):
        config.urls["city"] = "x/"  # type: ignore[index]


def test_overrides_win_and_none_means_not_given(tmp_path):
    path = write(tmp_path, "output_dir: out\nbase_url: https://a.example/\n")
    config = load_config(path, {"output_dir": str(tmp_path / "elsewhere"), "base_url": None, "drafts": True})
    assert config.output_dir == tmp_path / "elsewhere"
    assert config.base_url == "https://a.example/"
    assert config.drafts is True


def test_digest_changes_with_output_settings_only(tmp_path):
    one = load_config(write(tmp_path, "title: A\n", "a.yaml"))
    same = load_config(write(tmp_path, "title: A\ncache_dir: other\n", "b.yaml"))
    other = load_config(write(tmp_path, "title: B\n", "c.yaml"))
    assert one.digest() == same.digest()
    assert one.digest() != other.digest()
    assert one.parse_digest() == other.parse_digest()
    assert one.parse_digest() != load_config(write(tmp_path, "locale: de_AT\n", "d.yaml")).parse_digest()


def test_unknown_keys_name_the_key_and_the_nearest_one(tmp_path):
    assert errors(tmp_path, "title: X\ntitel: Y\nbaseurl: https://x.org/\n") == [
        "2:1: unknown key 'titel' | did you mean 'title'?",
        "3:1: unknown key 'baseurl' | did you mean 'base_url'?",
    ]


def test_an_unknown_key_without_a_near_one_lists_the_known_keys(tmp_path):
    (found,) = errors(tmp_path, "xyzzy: 1\n")
    assert found.startswith("1:1: unknown key 'xyzzy' | known keys: title, description, base_url")
    assert all(key in found for key in SCHEMA)


@pytest.mark.parametrize("text, expected", [
    ("title: 5\n", "1:8: 'title' must be non-empty text, not 5 | write title: "),
    ("title: ''\n", "1:8: 'title' must be non-empty text, not '' | write title: "),
    ("raw_html: ja\n", "1:11: 'raw_html' must be true or false, not 'ja' | write raw_html: true or raw_html: false"),
    ("search: 1\n", "1:9: 'search' must be true or false, not 1 | write search: true or search: false"),
    ("latest_count: zehn\n", "1:15: 'latest_count' must be a whole number from 0 to 1000, not 'zehn' | "
                             "write a whole number, e.g. latest_count: 10"),
    ("latest_count: true\n", "1:15: 'latest_count' must be a whole number from 0 to 1000, not True"),
    ("hub_page_size: 5\n", "1:16: 'hub_page_size' must be a whole number from 10 to 100000, not 5"),
    ("feed_entries: 2.5\n", "1:15: 'feed_entries' must be a whole number from 1 to 1000, not 2.5"),
    ("urls: [a]\n", "1:7: 'urls' must be a mapping of page kinds to patterns, not ['a'] | write 'name: value'"),
    ("words: Start\n", "1:8: 'words' must be a mapping of word keys to text, not 'Start'"),
    ("locale: xx_YY\n", "1:9: unknown locale 'xx_YY' | use a locale such as de_DE or de_AT"),
    ("currency: EURO\n", "1:11: unknown currency 'EURO' | use an ISO 4217 code such as EUR"),
    ("currency: XYZ\n", "1:11: unknown currency 'XYZ' | use an ISO 4217 code"),
    ("period: week\n", "1:9: unknown period 'week' | use one of: hour, month, year"),
    ("base_url: example.org\n", "1:11: base_url 'example.org' is not an absolute http(s) URL | write it like"),
    ("base_url: ftp://example.org/\n", "1:11: base_url 'ftp://example.org/' is not an absolute http(s) URL"),
    ("urls:\n  artikel: '{city}/'\n", "2:3: unknown URL kind 'artikel' | did you mean 'article'?"),
    ("urls:\n  city: '{role}/'\n", "2:9: URL pattern '{role}/' uses unknown field {role}"),
    ("urls:\n  article: '{city}/'\n", "2:12: URL pattern '{city}/' for 'article' must contain {role}"),
    ("urls:\n  city: '/{city}/'\n", "2:9: URL pattern '/{city}/' must be a relative path without '..'"),
    ("urls:\n  city: '../{city}/'\n", "2:9: URL pattern '../{city}/' must be a relative path without '..'"),
    ("urls:\n  city: 'C:/{city}/'\n", "2:9: URL pattern 'C:/{city}/' must not contain ':'"),
    ("urls:\n  city: '{city}'\n", "2:9: URL pattern '{city}' must end in '/' or '.html'"),
    ("urls:\n  city: ''\n", "2:9: URL pattern for 'city' must be non-empty text"),
    ("words:\n  hom: Start\n", "2:3: unknown word 'hom' | did you mean 'home'?"),
    ("words:\n  home: ''\n", "2:9: word 'home' must be non-empty text"),
    ("title: A\ntitle: B\n", "2:1: duplicate key 'title' | remove one of the two entries"),
])
def test_wrong_values_name_the_key_and_the_place(tmp_path, text, expected):
    (found,) = errors(tmp_path, text)
    assert found.startswith(expected)


def test_all_problems_are_collected(tmp_path):
    found = errors(tmp_path, "titel: X\nperiod: week\ncurrency: EURO\nsearch: 3\n")
    assert [f.split(":")[0] for f in found] == ["1", "2", "3", "4"]


def test_every_wrong_type_has_a_hint(tmp_path):
    for key in SCHEMA:
        (found,) = errors(tmp_path, f"{key}: [1, 2]\n")
        message, hint = found.split(" | ")
        assert f"'{key}' must be" in message and hint, found


@pytest.mark.parametrize("text, expected", [
    (b"title: X\n  bad: indent\n", "YAML syntax error"),
    (b"- a\n- b\n", "config.yaml must be a mapping of keys to values"),
    (b"title: \xe4\n", "not UTF-8 text"),
    (b"title: !!python/object:os.system {}\n", "unsupported YAML tag '!!python/object:os.system'"),
    (b"title: X\n\tsearch: true\n", "tab character used for indentation"),
])
def test_unreadable_files(tmp_path, text, expected):
    (found,) = errors(tmp_path, text)
    assert expected in found


def test_bom_and_crlf_are_fine(tmp_path):
    config = load_config(write(tmp_path, b"\xef\xbb\xbftitle: X\r\nperiod: year\r\n"))
    assert (config.title, config.period) == ("X", "year")


def test_empty_file_means_defaults(tmp_path):
    assert load_config(write(tmp_path, "# nothing yet\n")).title == SCHEMA["title"][1]


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    (problem,) = info.value.problems
    assert problem.message == "config file not found" and "--config" in problem.hint


def test_a_folder_behind_a_symbolic_link_in_a_circle_is_a_config_error(tmp_path):
    (tmp_path / "kreis").symlink_to("kreis")
    path = tmp_path / "config.yaml"
    path.write_text("content_dir: kreis\n", encoding="utf-8")
    with pytest.raises(ConfigError) as failed:
        load_config(path)
    assert [(p.line, p.message, p.hint) for p in failed.value.problems] == [
        (1, "'content_dir' leads through a symbolic link in a circle: kreis", "point it at a real folder")]
