"""Safe YAML reading that keeps the author's line numbers.

PyYAML's ``safe_load`` loses positions and silently lets a later duplicate key win.
Here the document is composed into nodes with the C parser where present, and
constructed by hand so that every value keeps the line and column of its node,
duplicate keys are reported, and scalar source text stays available (``3.300`` is
YAML's float 3.3; the raw text lets us say "write 3300").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml

try:  # the C loader is ~8x faster; fall back to the pure-Python one where libyaml is missing
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _BaseLoader = yaml.SafeLoader

Path = tuple[str | int, ...]  # a value's address, e.g. ("salary", "levels", 0, "min")


class Mark(NamedTuple):  # a tuple: ~40 per article, made in C (a frozen dataclass costs 1 µs each)
    line: int  # 1-based, in the file
    column: int  # 1-based
    raw: str | None = None  # the scalar's source text, for scalars
    plain: bool = False  # True for an unquoted scalar


class YamlProblem(Exception):
    """A YAML error located in the file (1-based line and column)."""

    def __init__(self, line: int, column: int, message: str, hint: str = ""):
        super().__init__(message)
        self.line, self.column, self.message, self.hint = line, column, message, hint


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed YAML document: ``data`` plus the :class:`Mark` of every value by path."""

    data: Any
    nodes: dict[Path, yaml.Node]  # of every value by path (a key's own at (*path, "<key>"))
    duplicates: tuple[tuple[Path, Mark], ...]  # every repeated key after the first
    first_line: int = 1  # of the document in its file

    def mark(self, path: Path) -> Mark:
        """The mark of ``path`` or of its nearest ancestor that has one."""
        while path not in self.nodes and path:
            path = path[:-1]
        node = self.nodes.get(path)
        return Mark(0, 0) if node is None else _mark(node, self.first_line)

    def raws(self, prefix: Path) -> dict[Path, tuple[str | None, bool]]:
        """(source text, unquoted) of ``prefix`` and every value below it, by path relative to it
        (the text is None for lists and mappings)."""
        n = len(prefix)
        return {path[n:]: ((node.value, not node.style) if type(node) is yaml.ScalarNode else (None, False))
                for path, node in self.nodes.items() if path[:n] == prefix}


def load(text: str, first_line: int = 1) -> Document:
    """Parse ``text`` (one YAML document) whose first line is line ``first_line`` of its file.

    Raises :class:`YamlProblem` with file line numbers on syntax errors and on values
    the safe constructor rejects (such as the impossible date ``2026-02-30``).
    """
    _check_tabs(text, first_line)
    loader = _BaseLoader(text)
    try:
        node = loader.get_single_node()
        nodes: dict[Path, yaml.Node] = {}
        duplicates: list[tuple[Path, Mark]] = []
        data = _construct(loader, node, (), nodes, duplicates, first_line) if node else None
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or str(exc)
        context = exc.context or ""
        # an unclosed quote is found at the end of the text; point to where the quote opened
        mark = exc.context_mark if "quoted scalar" in context and exc.context_mark else exc.problem_mark
        mark = mark or exc.context_mark
        line = (mark.line + first_line) if mark else first_line
        column = (mark.column + 1) if mark else 0
        lines = text.splitlines()
        source_line = lines[mark.line] if mark and mark.line < len(lines) else ""
        text = f"{context}: {problem}" if "quoted scalar" in context else problem
        raise YamlProblem(line, column, f"YAML syntax error: {text}", _yaml_hint(text, source_line, column)) from None
    except yaml.YAMLError as exc:  # pragma: no cover - errors without marks are rare
        raise YamlProblem(first_line, 0, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    return Document(data, nodes, tuple(duplicates), first_line)


def _mark(node: yaml.Node, first_line: int) -> Mark:
    raw = node.value if isinstance(node, yaml.ScalarNode) else None
    plain = isinstance(node, yaml.ScalarNode) and not node.style
    return Mark(node.start_mark.line + first_line, node.start_mark.column + 1, raw, plain)


_PLAIN_TAGS = {yaml.MappingNode: "tag:yaml.org,2002:map", yaml.SequenceNode: "tag:yaml.org,2002:seq"}
_TAG_HINT = "only plain text, numbers, dates, lists and mappings are allowed; remove the tag"


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _construct(loader, node, path: Path, nodes, duplicates, first_line: int) -> Any:
    nodes[path] = node  # its Mark is made only when asked for (Document.mark): ~40 per article
    if type(node) in _PLAIN_TAGS and node.tag != _PLAIN_TAGS[type(node)]:
        # the safe constructor is never asked about lists and mappings here: refuse their tags
        # ourselves, or "!!python/object:os.system {}" would quietly become an empty mapping
        raise YamlProblem(*_position(node, first_line), f"unsupported YAML tag '{_short_tag(node.tag)}'", _TAG_HINT)
    if isinstance(node, yaml.MappingNode):
        explicit = sum(key.tag != "tag:yaml.org,2002:merge" for key, _ in node.value)
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<) the way safe_load does
        merged = len(node.value) - explicit  # flatten_mapping puts the merged pairs first
        result: dict[Any, Any] = {}
        inherited: set[str] = set()  # keys that came from a merge: a later pair overrides them
        for index, (key_node, value_node) in enumerate(node.value):
            key = _scalar(loader, key_node, first_line)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise YamlProblem(*_position(key_node, first_line), "a key must be plain text")
            key = str(key)
            child = (*path, key)
            if index < merged:
                inherited.add(key)
            elif key in inherited:
                inherited.discard(key)
            elif key in result:
                duplicates.append((child, _mark(key_node, first_line)))
                continue
            result[key] = _construct(loader, value_node, child, nodes, duplicates, first_line)
            nodes[(*child, "<key>")] = key_node
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, item, (*path, i), nodes, duplicates, first_line)
            for i, item in enumerate(node.value)
        ]
    return _scalar(loader, node, first_line)


_STR = "tag:yaml.org,2002:str"
_INT, _BOOL, _NULL = "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_DECIMAL_INT = re.compile(r"[-+]?[1-9][0-9]*|0")  # not 0755 (octal), 0x1f, 1_000 or 1:30 (base 60)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _scalar(loader, node, first_line: int) -> Any:
    """The value of a scalar node as the safe constructor makes it; the common kinds (text,
    decimal integers, dates, booleans, null) without its bookkeeping (~5 µs each)."""
    if not isinstance(node, yaml.ScalarNode):
        raise YamlProblem(*_position(node, first_line), "a key must be plain text, not a list or mapping")
    tag, value = node.tag, node.value
    if tag == _STR:
        return value
    if tag == _INT and _DECIMAL_INT.fullmatch(value):
        return int(value)
    if tag == _TIMESTAMP and _DATE.fullmatch(value):
        try:
            return dt.date(int(value[:4]), int(value[5:7]), int(value[8:10]))
        except ValueError:  # 2026-02-30 looks like a date but is none: as below
            return value
    if tag == _BOOL and value.lower() in loader.bool_values:
        return loader.bool_values[value.lower()]
    if tag == _NULL:
        return None
    try:
        return loader.construct_object(node, deep=True)
    except (KeyError, IndexError, AttributeError) as exc:  # an explicit tag on a value it cannot take
        line, column = _position(node, first_line)  # ("!!bool maybe", an empty "!!int")
        raise YamlProblem(line, column, f"'{node.value}' is not a valid {_short_tag(node.tag)}",
                          "remove the tag, or write a value of that type") from exc
    except (ValueError, OverflowError) as exc:
        if node.tag == "tag:yaml.org,2002:timestamp":
            # 2026-02-30 looks like a date but is none: keep the text, the caller reports it in context
            return node.value
        line, column = _position(node, first_line)
        raise YamlProblem(line, column, f"cannot read '{node.value}': {exc}") from None
    except yaml.constructor.ConstructorError:
        line, column = _position(node, first_line)
        raise YamlProblem(line, column, f"unsupported YAML tag '{_short_tag(node.tag)}'", _TAG_HINT) from None


def _position(node, first_line: int) -> tuple[int, int]:
    return node.start_mark.line + first_line, node.start_mark.column + 1


def _check_tabs(text: str, first_line: int) -> None:
    for number, line in enumerate(text.splitlines(), start=first_line):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            raise YamlProblem(number, indent.index("\t") + 1, "tab character used for indentation",
                              "indent with spaces only (YAML does not allow tabs)")


def _yaml_hint(problem: str, source_line: str = "", column: int = 0) -> str:
    if "quoted scalar" in problem:
        return "a quote (\" or ') is opened here but not closed on this line"
    if "mapping values are not allowed" in problem and source_line.find(":") + 1 == column:
        # the colon after this line's own key: the line is taken to continue the value above it
        return "this line is indented more than the key above it; keys of one mapping must start in the same column"
    if "mapping values are not allowed" in problem:
        return "a value that contains ': ' must be put in quotes, e.g. title: \"Pflege: ein Beruf\""
    if "could not find expected ':'" in problem:
        return "each line needs the form 'key: value'; check the line above for a missing ':' or quote"
    if "found character" in problem and "that cannot start any token" in problem:
        return "put the value in quotes"
    if "found undefined alias" in problem or "found unhashable key" in problem:
        return "put the value in quotes"
    if "expected <block end>" in problem:
        return "check the indentation: keys of one mapping must start in the same column"
    return "check quotes, colons and indentation on this line and the one above"
