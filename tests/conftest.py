"""Shared fixtures: small sites in tmp_path, built in-process with the real CLI."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from careersite.cli import main

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"

ARTICLE = """\
---
role: {role}
city: {city}
region: {region}
state: {state}
salary:
  min: {min}
  max: {max}
  levels:
    - {{label: Berufseinstieg, min: {min}, max: {mid}}}
    - {{label: Mit Berufserfahrung, min: {mid}, max: {max}}}
date: {date}
---
{role} in {city}: ein Einstieg mit Perspektive.

## Aufgaben

Viel zu tun.
"""


def article(role: str = "Straßenbauer", city: str = "Bochum", min: int = 3000, max: int = 4000,
            region: str = "Ruhrgebiet", state: str = "Nordrhein-Westfalen", date: str = "2026-11-01",
            body: str | None = None) -> str:
    """A valid article; ``body`` replaces everything after the front matter."""
    text = ARTICLE.format(role=role, city=city, region=region, state=state, min=min, max=max,
                          mid=(min + max) // 2, date=date)
    if body is not None:
        text = text[: text.index("---\n", 4) + 4] + textwrap.dedent(body)
    return text


@dataclass
class Site:
    root: Path

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def output(self) -> Path:
        return self.root / "output"

    def write(self, relpath: str, text: str | bytes) -> Path:
        path = self.content / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def build(self, *args: str) -> int:
        return main(["build", "--config", str(self.root / "config.yaml"), *args])

    def run(self, *args: str) -> int:
        return main([*args[:1], "--config", str(self.root / "config.yaml"), *args[1:]])

    def page(self, relpath: str) -> str:
        return (self.output / relpath).read_text(encoding="utf-8")

    def files(self) -> dict[str, bytes]:
        return {p.relative_to(self.output).as_posix(): p.read_bytes()
                for p in sorted(self.output.rglob("*")) if p.is_file()}


@pytest.fixture
def make_site(tmp_path, monkeypatch):
    """``make_site({"bochum/x.md": text, ...}, config="...")`` -> :class:`Site` in tmp_path (also the cwd)."""

    def make(files: dict[str, str | bytes] | None = None, config: str = "", name: str = "site") -> Site:
        root = tmp_path / name
        root.mkdir()
        shutil.copytree(TEMPLATES, root / "templates")
        (root / "config.yaml").write_text(
            "title: Testatlas\nbase_url: https://example.org/\n" + textwrap.dedent(config), encoding="utf-8")
        site = Site(root)
        site.content.mkdir()
        for relpath, text in (files or {}).items():
            site.write(relpath, text)
        monkeypatch.chdir(root)
        return site

    return make
