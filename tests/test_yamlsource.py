"""careersite.yamlsource: safe YAML that keeps the file's line numbers."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from careersite import yamlsource
from careersite.yamlsource import Mark, YamlProblem, load


def problem(text: str, first_line: int = 1) -> YamlProblem:
    with pytest.raises(YamlProblem) as info:
        load(text, first_line)
    return info.value


def test_values_and_marks_in_file_lines():
    doc = load("role: Bäcker\nsalary:\n  min: 3300\n  levels:\n    - {label: A, min: 1}\n", first_line=2)
    assert doc.data == {"role": "Bäcker", "salary": {"min": 3300, "levels": [{"label": "A", "min": 1}]}}
    assert doc.mark(("role",)) == Mark(2, 7, "Bäcker", True)
    assert doc.mark(("role", "<key>")) == Mark(2, 1, "role", True)
    assert doc.mark(("salary", "min")).line == 4
    assert doc.mark(("salary", "levels", 0, "min")) == Mark(6, 23, "1", True)
    assert doc.duplicates == ()


def test_mark_falls_back_to_the_nearest_ancestor():
    doc = load("salary:\n  min: 1\n", first_line=2)
    assert doc.mark(("salary", "levels", 3)) == doc.mark(("salary",))
    assert doc.mark(("nothing",)) == doc.mark(())


def test_raw_text_and_quoting_are_kept():
    doc = load("a: 3.300\nb: '3.300'\nc: \"x\"\n")
    assert doc.data == {"a": 3.3, "b": "3.300", "c": "x"}
    assert (doc.mark(("a",)).raw, doc.mark(("a",)).plain) == ("3.300", True)
    assert (doc.mark(("b",)).raw, doc.mark(("b",)).plain) == ("3.300", False)


def test_dates_are_dates():
    assert load("date: 2026-11-23\n").data == {"date": dt.date(2026, 11, 23)}


def test_impossible_date_is_kept_as_text_for_the_caller():
    assert load("date: 2026-02-30\n").data == {"date": "2026-02-30"}


def test_duplicate_keys_are_all_reported_and_the_first_wins():
    doc = load("city: Essen\nrole: A\ncity: Bochum\nsalary:\n  min: 1\n  min: 2\ncity: Köln\n", first_line=2)
    assert doc.data["city"] == "Essen" and doc.data["salary"] == {"min": 1}
    assert [(path, mark.line, mark.column) for path, mark in doc.duplicates] == [
        (("city",), 4, 1), (("salary", "min"), 7, 3), (("city",), 8, 1)]


def test_merge_keys_work_like_safe_load():
    text = "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\nd:\n  <<: *a\n  y: 4\n"
    doc = load(text)
    assert doc.data == yaml.safe_load(text)
    assert doc.data["c"] == {"x": 1, "y": 1, "z": 3} and doc.data["d"] == {"x": 1, "y": 4}
    assert doc.duplicates == ()  # overriding a merged key is no duplicate


def test_a_duplicate_next_to_a_merge_is_still_reported():
    doc = load("b: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n  x: 3\n")
    assert doc.data["c"] == {"x": 2}
    assert [path for path, _ in doc.duplicates] == [("c", "x")]


def test_empty_document():
    assert load("").data is None
    assert load("# only a comment\n").data is None


@pytest.mark.parametrize("text", [
    "a: !!python/object:os.system {}\n",
    "a: !!python/object/apply:os.system ['echo hi']\n",
    "a: !!python/object/new:os.system [x]\n",
    "a: !!python/name:os.system\n",
    "a: !!python/tuple [1, 2]\n",
    "!!python/object:collections.OrderedDict {a: 1}\n",
    "a: !custom {b: 1}\n",
    "a: !!omap [{b: 1}]\n",
    "a: !!set {b: null}\n",
])
def test_unsafe_and_unknown_tags_are_rejected(text):
    found = problem(text, first_line=2)
    assert found.message.startswith("unsupported YAML tag '")
    assert found.line == 2
    assert "remove the tag" in found.hint


def test_python_object_is_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(YamlProblem):
        load(f"a: !!python/object/apply:os.system ['touch {marker}']\n")
    assert not marker.exists()


def test_standard_scalar_tags_are_fine():
    assert load("a: !!str 123\nb: !!int '7'\n").data == {"a": "123", "b": 7}


@pytest.mark.parametrize("text, line, column, message, hint", [
    ("title: Pflege: ein Beruf\n", 2, 14, "mapping values are not allowed", "must be put in quotes"),
    ("a: 1\nb: \"offen\nc: 2\n", 3, 4, "while scanning a quoted scalar", "not closed"),
    ("salary:\n  min: 1\n   max: 2\n", 4, 7, "mapping values are not allowed", "indented more than the key above"),
    ("title: A\n  search: true\n", 3, 9, "mapping values are not allowed", "indented more than the key above"),
    ("a: [1, 2\n", 3, 1, "YAML syntax error", ""),
    ("a: @x\n", 2, 4, "cannot start any token", "put the value in quotes"),
    ("a: *nix\n", 2, 4, "undefined alias", "put the value in quotes"),
])
def test_syntax_errors_carry_file_lines_and_a_hint(text, line, column, message, hint):
    found = problem(text, first_line=2)
    assert (found.line, found.column) == (line, column)
    assert found.message.startswith("YAML syntax error: ")
    assert message in found.message
    assert hint in found.hint and found.hint


def test_tabs_in_indentation_are_named():
    found = problem("salary:\n  min: 1\n\tmax: 2\n", first_line=2)
    assert (found.line, found.column, found.message) == (4, 1, "tab character used for indentation")
    assert "spaces" in found.hint
    found = problem("salary:\n \tmin: 1\n")
    assert (found.line, found.column) == (2, 2)


def test_a_tab_inside_a_value_is_allowed():
    assert load("title: a\tb\n").data == {"title": "a\tb"}


def test_non_text_keys_are_rejected():
    assert "plain text" in problem("? [a, b]\n: 1\n").message


def test_pure_python_loader_gives_the_same_result(monkeypatch):
    text = "role: A\ncity: B\nsalary: {min: 3.300, max: 4600}\ndate: 2026-11-23\n"
    fast = load(text, 2)
    monkeypatch.setattr(yamlsource, "_BaseLoader", yaml.SafeLoader)
    slow = load(text, 2)
    assert (slow.data, slow.duplicates) == (fast.data, fast.duplicates)
    assert {path: slow.mark(path) for path in slow.nodes} == {path: fast.mark(path) for path in fast.nodes}


@pytest.mark.parametrize("value", ["0", "7", "-12", "+5", "3300", "0755", "0x1f", "1_000", "1:30", "-0", "3.300",
                                   "3,300", "1e3", ".inf", "2026-11-23", "2026-02-30", "2026-1-5", "2026-11-23 10:00",
                                   "yes", "No", "TRUE", "off", "null", "~", "", "Bäcker", "'7'"])
def test_scalars_are_read_as_the_safe_loader_reads_them(value):
    """Common scalars (integers, dates, booleans, null) skip PyYAML's constructor: same values."""
    text = f"a: {value}\nb: [{value}]\n"
    expected = yaml.safe_load(text) if value != "2026-02-30" else {"a": value, "b": [value]}
    assert load(text).data == expected
    assert [type(v) for v in load(text).data.values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize(("text", "message", "column"), [("draft: !!bool maybe\n", "'maybe' is not a valid !!bool", 8),
                                                         ("n: !!int\n", "'' is not a valid !!int", 4)])
def test_an_explicit_tag_on_a_value_it_cannot_take_is_a_located_problem(text, message, column):
    found = problem(text)  # (it raised a KeyError or IndexError out of the reader before)
    assert found.message == message and (found.line, found.column) == (1, column)
