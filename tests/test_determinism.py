"""Reproducible output: the same sources give the same bytes on any machine, at any time.

Every build here is ``python build.py`` in a separate process, as CI runs it; the outputs are
compared byte for byte, file by file (the hidden output marker included).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import generate
from tests.support.workflows import REPO, assert_same_files, files, make_workspace

EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z
EPOCH_TEXT = "2023-11-14T22:13:20Z"


def environment(**changes: str) -> dict[str, str]:
    """This process's environment without SOURCE_DATE_EPOCH or CI variables, plus ``changes``."""
    env = {k: v for k, v in os.environ.items()
           if k != "SOURCE_DATE_EPOCH" and not k.startswith("GITHUB_")}
    env.update(changes)
    return env


def build(site: Path, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> dict[str, bytes]:
    """``python build.py --quiet ARGS`` for ``site`` in a new process; every output file."""
    command = [sys.executable, str(site / "build.py"), "build", "--quiet", *args]
    if cwd is not None and cwd != site:
        command += ["--config", str(site / "config.yaml")]
    result = subprocess.run(command, cwd=cwd or site, env=env or environment(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return files(site / "output")


def test_two_machines_build_the_same_bytes(tmp_path):
    # Two checkouts at different absolute paths (one with an umlaut and a space), run from
    # different working folders, in different time zones, locales and hash seeds.
    first = make_workspace(tmp_path / "a" / "site")
    second = make_workspace(tmp_path / "b" / "tief verschachtelt" / "Über" / "site")
    one = build(first, env=environment(TZ="UTC", LANG="C.UTF-8", LC_ALL="C.UTF-8", PYTHONHASHSEED="1"))
    two = build(second, cwd=tmp_path, env=environment(TZ="Pacific/Kiritimati", LANG="de_DE.UTF-8",
                                                      LC_ALL="de_DE.UTF-8", PYTHONHASHSEED="2"))
    assert len(one) > 50
    assert_same_files(one, two)
    for data in one.values():  # no path of the machine that built it
        assert str(tmp_path).encode() not in data


def test_a_rebuild_later_gives_the_same_bytes(tmp_path):
    site = make_workspace(tmp_path / "site")
    first = build(site, "--full")
    shutil.rmtree(site / ".cache")
    assert_same_files(first, build(site, "--full", env=environment(TZ="America/Los_Angeles")))


@pytest.mark.slow
def test_worker_processes_do_not_change_the_output(tmp_path):
    # Work is spread over processes only above 200 files to read or render: 400 articles.
    sites = []
    for name in ("one", "two"):
        site = tmp_path / name
        site.mkdir()
        shutil.copytree(REPO / "templates", site / "templates")
        shutil.copy2(REPO / "config.yaml", site / "config.yaml")
        shutil.copy2(REPO / "build.py", site / "build.py")
        generate(site / "content", 400, words=250)
        sites.append(site)
    assert len(list((sites[0] / "content").rglob("*.md"))) == 400
    assert_same_files(build(sites[0], "--jobs", "1"), build(sites[1], "--jobs", "2"))


UNDATED = """\
---
role: Koch
city: Essen
region: Ruhrgebiet
state: Nordrhein-Westfalen
salary: {min: 2500, max: 3000}
---
Kochen in Essen, ohne Datum.
"""


def test_source_date_epoch_changes_only_the_times_no_article_gives(tmp_path):
    site = make_workspace(tmp_path / "site")
    (site / "content/essen/koch.md").write_text(UNDATED, encoding="utf-8")
    unset = build(site, "--full")
    epoch = build(site, "--full", env=environment(SOURCE_DATE_EPOCH=str(EPOCH)))
    assert sorted(unset) == sorted(epoch)
    differ = sorted(name for name in unset if unset[name] != epoch[name])
    assert "feeds/beruf-koch.xml" in differ
    for name in differ:
        before, after = unset[name].decode().splitlines(), epoch[name].decode().splitlines()
        assert len(before) == len(after), name
        changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
        # the only change: 1970 (no epoch given) became the epoch's time
        assert all(a == b.replace("1970-01-01T00:00:00Z", EPOCH_TEXT) for b, a in changed), (name, changed)
    dated = build(site, "--full", env=environment(SOURCE_DATE_EPOCH=str(EPOCH + 86_400)))
    assert dated["feeds/stadt-bochum.xml"] == unset["feeds/stadt-bochum.xml"]  # dated articles: no effect


def test_a_restored_stale_cache_cannot_change_a_page(tmp_path):
    """CI restores the newest cache of the branch into a fresh checkout of a newer commit
    (.github/workflows/publish.yml); the build must equal a cold build of that commit."""
    workspace = tmp_path / "runner" / "work" / "site"  # the same path on every run, as on GitHub
    make_workspace(workspace)
    build(workspace)
    saved = tmp_path / "saved-cache"
    shutil.copytree(workspace / ".cache", saved)
    cache = saved / "careersite"  # the Markdown store and the state of that build: what CI restores
    assert (cache / "markup.sqlite3").is_file() and list(cache.glob("state-*"))
    shutil.rmtree(workspace)

    def newer_commit(root: Path) -> None:
        make_workspace(root)
        article = root / "content/bochum/strassenbauer.md"
        text = article.read_text(encoding="utf-8")
        changed = text.replace("3", "4", 1)  # the same size: only the content hash can tell
        assert changed != text and len(changed) == len(text)
        article.write_text(changed, encoding="utf-8")
        (root / "content/essen/koch.md").write_text(UNDATED, encoding="utf-8")
        next(root.glob("content/muenster/*.md")).unlink()
        base = root / "templates/base.html"
        base.write_text(base.read_text(encoding="utf-8").replace("</body>", "<!-- v2 --></body>"), encoding="utf-8")
        config = root / "config.yaml"
        config.write_text(config.read_text(encoding="utf-8").replace("Berufe, Gehälter", "Berufe und Gehälter"),
                          encoding="utf-8")

    newer_commit(workspace)  # a fresh checkout: no output/, new files
    shutil.copytree(saved, workspace / ".cache")  # actions/cache restores the old cache
    warm = build(workspace, "--strict")
    cold_site = tmp_path / "cold" / "site"
    newer_commit(cold_site)
    assert_same_files(warm, build(cold_site, "--strict"))
    assert any(b"<!-- v2 -->" in data for data in warm.values())
