"""careersite.frontmatter: decoding, splitting front matter from the body, file line numbers."""

from __future__ import annotations

import pytest

from careersite.frontmatter import FrontMatterProblem, decode, parse, split

TEXT = "---\nrole: Bäcker\ncity: Essen\n---\nHallo\n\nWelt\n"


def problem(fn, arg) -> FrontMatterProblem:
    with pytest.raises(FrontMatterProblem) as info:
        fn(arg)
    return info.value


def test_split():
    assert split(TEXT) == ("role: Bäcker\ncity: Essen\n", "Hallo\n\nWelt\n", 5)


def test_split_keeps_a_body_horizontal_rule_and_allows_trailing_spaces_on_fences():
    yaml_text, body, line = split("--- \nrole: A\n---  \nText\n\n---\n\nMehr\n")
    assert (yaml_text, body, line) == ("role: A\n", "Text\n\n---\n\nMehr\n", 4)


def test_split_without_body():
    assert split("---\nrole: A\n---") == ("role: A\n", "", 4)
    assert split("---\n---\n") == ("", "", 3)


@pytest.mark.parametrize("data", [
    TEXT.encode(),
    b"\xef\xbb\xbf" + TEXT.encode(),
    TEXT.replace("\n", "\r\n").encode(),
    b"\xef\xbb\xbf" + TEXT.replace("\n", "\r\n").encode(),
    TEXT.replace("\n", "\r").encode(),
])
def test_decode_utf8_with_or_without_bom_and_any_line_ending(data):
    assert decode(data) == TEXT


@pytest.mark.parametrize("data, line, byte", [
    ("---\nrole: Bäcker\n---\n".encode("latin-1"), 2, "0xe4"),
    ("---\nrole: Bäcker\n---\n".encode("cp1252"), 2, "0xe4"),
    ("---\nrole: A\n---\n".encode("utf-16"), 1, "0xff"),
    (b"---\nrole: A\n---\n\n\nGr\xfc\xdfe\n", 6, "0xfc"),
])
def test_other_encodings_are_a_clear_error(data, line, byte):
    found = problem(decode, data)
    assert found.line == line
    assert found.message == f"the file is not UTF-8 (byte {byte} at line {line})"
    assert "UTF-8" in found.hint


@pytest.mark.parametrize("text, line, column, message", [
    ("", 1, 0, "the file is empty"),
    ("\n \n\t\n", 1, 0, "the file is empty"),
    ("Hallo\n", 1, 1, "the file does not start with front matter"),
    ("\n\nrole: A\n", 3, 1, "the file does not start with front matter"),
    ("----\nrole: A\n----\n", 1, 1, "the first line must be exactly '---'"),
    ("---role: A\n---\n", 1, 1, "the first line must be exactly '---'"),
    ("---\nrole: A\ncity: B\n\nText\n", 1, 1, "the front matter is not closed"),
    ("---", 1, 1, "the first line must be exactly '---'"),
])
def test_split_problems(text, line, column, message):
    found = problem(split, text)
    assert (found.line, found.column, found.message) == (line, column, message)
    assert found.hint


def test_missing_front_matter_hint_names_the_fix():
    assert "'---'" in problem(split, "Hallo\n").hint


def test_parse_numbers_yaml_lines_as_file_lines():
    doc, body, body_line = parse("---\nrole: A\n\ncity: B\nsalary:\n  min: 3300\n---\nText\n")
    assert doc.data == {"role": "A", "city": "B", "salary": {"min": 3300}}
    assert doc.mark(("city",)).line == 4
    assert doc.mark(("salary", "min")).line == 6
    assert (body, body_line) == ("Text\n", 8)


def test_parse_reports_yaml_errors_in_file_lines():
    found = problem(parse, "---\nrole: A\ntitle: a: b\n---\n")
    assert (found.line, found.column) == (3, 9)
    assert found.message.startswith("YAML syntax error")
    found = problem(parse, "---\nrole: A\nsalary:\n\tmin: 1\n---\n")
    assert (found.line, found.column, found.message) == (4, 1, "tab character used for indentation")


@pytest.mark.parametrize("text, message", [
    ("---\n---\nText\n", "the front matter is empty"),
    ("---\n# nur ein Kommentar\n---\nText\n", "the front matter is empty"),
    ("---\n- a\n- b\n---\n", "the front matter must be 'key: value' lines"),
    ("---\nnur Text\n---\n", "the front matter must be 'key: value' lines"),
])
def test_parse_rejects_empty_or_non_mapping_front_matter(text, message):
    found = problem(parse, text)
    assert (found.line, found.column, found.message) == (2, 1, message)


def test_line_numbers_survive_bom_and_crlf():
    text = decode(b"\xef\xbb\xbf---\r\nrole: A\r\ncity: B\r\ntitle: x: y\r\n---\r\n")
    assert problem(parse, text).line == 4
