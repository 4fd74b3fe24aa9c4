"""careersite.serve: the warm preview build, the debounced watcher, safe file serving, and the real server.

The server tests start `python -m careersite serve` in a subprocess on a free port and talk
to it over real HTTP (raw sockets where a client would normalise the path), and drive
headless Chromium against it for the reload test.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import article

from careersite.cli import main
from careersite.config import load_config
from careersite.errors import Problem
from careersite.serve import (
    ChangeWatcher,
    Outcome,
    Preview,
    SearchUpdater,
    _check_host,
    describe,
    error_page,
    safe_target,
)

TIMEOUT = 30  # seconds to wait for anything the server does (generous: CI machines are slow)


def eventually(condition, timeout: float = TIMEOUT, interval: float = 0.02):
    """Poll ``condition()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def serve_config(site, drafts: bool = True):
    return lambda: load_config(site.root / "config.yaml", {"drafts": drafts})


def site_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".careersite-output"}


def fresh_build(site, tmp_path: Path, name: str) -> dict[str, bytes]:
    """A cold build of the same sources (drafts on, like serve) with a cache of its own."""
    out, cache = tmp_path / f"{name}-out", tmp_path / f"{name}-cache"
    code = main(["build", "--config", str(site.root / "config.yaml"), "--drafts", "--full", "--output", str(out),
                 "--cache-dir", str(cache), "--quiet"])
    assert code == 0
    return site_files(out)


# --- safe paths, error page, messages ------------------------------------------------------------

@pytest.fixture
def served(tmp_path: Path) -> Path:
    root = tmp_path / "project" / "serve"
    (root / "bochum").mkdir(parents=True)
    (root / "index.html").write_text("start")
    (root / "bochum" / "index.html").write_text("bochum")
    (tmp_path / "project" / "secret.txt").write_text("secret")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "index.html").write_text("outside")
    (root / "leak.txt").symlink_to(tmp_path / "project" / "secret.txt")
    (root / "escape").symlink_to(tmp_path / "project")
    (root / "outdir").symlink_to(outside)
    (root / "inside.html").symlink_to(root / "bochum" / "index.html")
    return root


@pytest.mark.parametrize("path, expected", [
    ("", ""), ("index.html", "index.html"), ("bochum/", "bochum"), ("bochum/index.html", "bochum/index.html"),
    ("inside.html", "inside.html"),  # a symlink that stays inside is fine
    ("../secret.txt", None), ("bochum/../../secret.txt", None), ("./index.html", None), ("bochum//index.html", None),
    ("/etc/passwd", None), ("..\\secret.txt", None), ("index.html\x00.txt", None), (".careersite-output", None),
    ("leak.txt", None), ("escape/secret.txt", None), ("escape/", None), ("outdir/", None), ("outdir/index.html", None),
    ("C:/Windows/win.ini", None),
])
def test_safe_target(served: Path, path: str, expected: str | None):
    target = safe_target(served, path)
    if expected is None:
        assert target is None
    else:
        assert target == (served / expected if expected else served)


def test_error_page_lists_every_problem_escaped_with_an_excerpt(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.md").write_text("---\nrole: <b>X</b>\ncity: Y\n---\n", encoding="utf-8")
    problems = [Problem("a.md", 2, 7, "unknown <script>alert(1)</script> key", "did you mean 'role'?"),
                Problem("templates/base.html", 0, 0, "template is missing", "restore it & rebuild")]
    page = error_page(problems).decode("utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<p class="where">a.md:2:7</p>' in page
    assert "Hint: did you mean &#x27;role&#x27;?" in page
    assert "<mark>2 | role: &lt;b&gt;X&lt;/b&gt;</mark>" in page  # the line itself, escaped
    assert '<p class="where">templates/base.html</p>' in page and "restore it &amp; rebuild" in page
    assert "<title>Build failed: 2 errors</title>" in page and "</head>" in page  # livereload is injected there


def test_describe_says_what_changed_and_how_long_it_took(tmp_path: Path, monkeypatch):
    from careersite.pipeline import BuildReport
    monkeypatch.chdir(tmp_path)
    changed = [str(tmp_path / "content" / f"{n}.md") for n in "abcd"]
    ok = Outcome(True, 0.123, BuildReport(changed=["bochum/index.html", "index.html"]))
    line = describe(ok, changed)
    assert line.endswith("Rebuilt after 4 changes (content/a.md, content/b.md, content/c.md, … +1) in 0.12 s: "
                         "2 files updated (bochum/index.html, index.html)")
    failed = Outcome(False, 0.01, None, [Problem("a.md", 1, 1, "x"), Problem("b.md", 1, 1, "y")])
    assert describe(failed, changed[:1]).endswith(
        "Rebuild failed after 1 change (content/a.md) in 0.01 s: 2 errors, shown in the browser")
    assert describe(Outcome(True, 0.0, BuildReport()), []).endswith("Rebuilt after 0 changes in 0.00 s: "
                                                                     "no page changed")


class _Out:
    def __init__(self):
        self.errors: list[str] = []

    def error(self, message: str) -> None:
        self.errors.append(message)


@pytest.mark.parametrize("host, warned", [("127.0.0.1", False), ("localhost", False), ("::1", False),
                                          ("127.0.0.2", False), ("0.0.0.0", True), ("192.168.1.5", True),
                                          ("::", True), ("example.org", True)])
def test_binding_another_address_warns(host: str, warned: bool):
    out = _Out()
    _check_host(host, out)
    assert bool(out.errors) == warned
    if warned:
        assert f"serving on {host}" in out.errors[0] and "other machines" in out.errors[0]


# --- the warm preview build ------------------------------------------------------------------------

def test_preview_builds_into_its_own_folder_with_drafts_marked(make_site):
    draft = article("Bäcker", "Essen").replace("date: 2026-11-01\n", "date: 2026-11-01\ndraft: true\n")
    site = make_site({"bochum/strassenbauer.md": article(), "essen/baecker.md": draft})
    preview = Preview(serve_config(site))
    outcome = preview.build()
    assert outcome.ok and outcome.reload
    assert preview.root == site.root / ".cache" / "careersite" / "serve"
    assert not site.output.exists()  # never the user's output/
    page = (preview.root / "essen" / "baecker" / "index.html").read_text(encoding="utf-8")
    assert "Entwurf: Dieser Artikel ist noch nicht veröffentlicht." in page
    hidden = Preview(serve_config(site, drafts=False))
    assert hidden.build().ok
    assert not (hidden.root / "essen" / "baecker" / "index.html").exists()


def test_preview_keeps_the_last_good_site_while_a_build_fails(make_site):
    site = make_site({"bochum/strassenbauer.md": article(), "essen/baecker.md": article("Bäcker", "Essen")})
    preview = Preview(serve_config(site))
    assert preview.build().ok
    before = site_files(preview.root)
    site.write("essen/baecker.md", "---\nrole: Bäcker\ncity: [Essen\n---\n")
    outcome = preview.build()
    assert not outcome.ok and outcome.reload and not preview.ok
    assert [p.path for p in outcome.problems] == ["content/essen/baecker.md"]
    assert outcome.problems[0].line >= 3 and "YAML" in outcome.problems[0].message
    assert site_files(preview.root) == before
    site.write("essen/baecker.md", article("Bäcker", "Essen", min=2500))
    outcome = preview.build()
    assert outcome.ok and outcome.reload and preview.ok
    assert "2.500" in (preview.root / "essen" / "baecker" / "index.html").read_text(encoding="utf-8")
    outcome = preview.build()  # nothing changed: no reload
    assert outcome.ok and not outcome.reload and outcome.report.changed == []


def test_preview_reads_config_yaml_again_and_survives_a_broken_one(make_site):
    site = make_site({"bochum/strassenbauer.md": article()})
    preview = Preview(serve_config(site))
    assert preview.build().ok
    config = site.root / "config.yaml"
    config.write_text(config.read_text().replace("title: Testatlas", "title: Neuer Atlas"))
    assert preview.build().ok
    assert "Neuer Atlas" in (preview.root / "index.html").read_text(encoding="utf-8")
    config.write_text("title: [kaputt\n")
    outcome = preview.build()
    assert not outcome.ok and outcome.problems[0].path.endswith("config.yaml")
    config.write_text("title: Wieder gut\nbase_url: https://example.org/\n")
    assert preview.build().ok
    assert "Wieder gut" in (preview.root / "index.html").read_text(encoding="utf-8")


CITIES = [("Bochum", "Ruhrgebiet"), ("Essen", "Ruhrgebiet"), ("Münster", "Münsterland"), ("Gießen", None)]
ROLES = ["Straßenbauer", "Bäcker", "Koch", "Maler", "Tischler", "Erzieher"]


class RandomAuthor:
    """Applies random edits, renames and deletions to a site, as an author (or git) would."""

    def __init__(self, site, seed: int):
        self.site, self.rng = site, random.Random(seed)
        self.articles: dict[str, dict] = {}  # relpath -> fields
        self.broken: dict[str, str] = {}  # relpath -> the valid text it replaced
        self.clock = time.time_ns() - 86_400 * 10**9  # old mtimes: the build trusts stat, as in real use
        self.log: list[str] = []

    def write(self, relpath: str, text: str) -> None:
        path = self.site.write(relpath, text)
        self.clock += 10**9
        os.utime(path, ns=(self.clock, self.clock))

    def text(self, a: dict) -> str:
        body = "\n\n".join(a["paragraphs"]) + "\n"
        text = article(a["role"], a["city"], a["min"], a["max"], region=a["region"] or "", date=a["date"], body=body)
        if a["region"] is None:
            text = text.replace("region: \n", "")
        if a["draft"]:
            text = text.replace("\n---\n", "\ndraft: true\n---\n", 1)
        return text

    def taken(self, role: str, city: str, skip: str = "") -> bool:
        return any((a["role"], a["city"]) == (role, city) for rel, a in self.articles.items() if rel != skip)

    def free_pair(self, skip: str = ""):
        pairs = [(r, c) for r in ROLES for c in CITIES if not self.taken(r, c[0], skip)]
        return self.rng.choice(pairs)

    def add(self) -> None:
        role, (city, region) = self.free_pair()
        relpath = f"{city.lower()}/{role.lower()}-{self.rng.randrange(1000)}.md"
        if relpath in self.articles or relpath in self.broken:
            return
        low = self.rng.randrange(2000, 4000, 100)
        self.articles[relpath] = {"role": role, "city": city, "region": region, "min": low,
                                  "max": low + self.rng.randrange(100, 1500, 100), "draft": False,
                                  "date": f"2026-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}",
                                  "paragraphs": [f"{role} in {city}.", "## Aufgaben", "Viel zu tun."]}
        self.write(relpath, self.text(self.articles[relpath]))
        self.log.append(f"add {relpath}")

    #: operation -> weight; a broken file is fixed soon, so that most builds succeed and go incremental
    OPS = {"body": 4, "salary": 2, "city": 2, "role": 2, "rename": 2, "delete": 1, "add": 2, "draft": 1, "break": 1,
           "template": 1, "config": 1, "link": 2, "burst": 1}

    def step(self) -> None:
        op = self.rng.choices(list(self.OPS), weights=list(self.OPS.values()))[0]
        if self.broken and self.rng.random() < 0.5:
            op = "fix"
        if len(self.articles) < 4 or op == "add":
            self.add()
            return
        relpath = self.rng.choice(sorted(self.articles))
        a = self.articles[relpath]
        self.log.append(f"{op} {relpath}")
        if op == "body":
            a["paragraphs"].append(f"Absatz {self.rng.randrange(10**6)}.")
        elif op == "salary":
            a["min"] = self.rng.randrange(2000, 4000, 100)
            a["max"] = a["min"] + self.rng.randrange(0, 1500, 100)
        elif op == "city":
            city, region = self.rng.choice(CITIES)
            if self.taken(a["role"], city, skip=relpath):
                return
            a["city"], a["region"] = city, region
        elif op == "role":
            role = self.rng.choice(ROLES)
            if not self.taken(role, a["city"], skip=relpath):
                a["role"] = role
        elif op == "rename":
            target = f"{self.rng.choice(CITIES)[0].lower()}/umbenannt-{self.rng.randrange(1000)}.md"
            if target in self.articles or target in self.broken:
                return
            (self.site.content / target).parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.site.content / relpath, self.site.content / target)
            self.articles[target] = self.articles.pop(relpath)
            return
        elif op == "delete":
            (self.site.content / relpath).unlink()
            del self.articles[relpath]
            return
        elif op == "draft":
            a["draft"] = not a["draft"]
        elif op == "break":
            self.broken[relpath] = self.text(a)
            del self.articles[relpath]
            self.write(relpath, self.rng.choice(["---\nrole: [kaputt\n---\n", "kein front matter\n",
                                                 "---\nrole: X\ncity: Y\nsalary: {min: 0, max: 1}\n---\n"]))
            return
        elif op == "fix":
            if self.broken:
                self.fix_one()
            return
        elif op == "template":
            base = self.site.root / "templates" / "base.html"
            base.write_text(base.read_text(encoding="utf-8").replace("</body>", f"<!-- {self.rng.random()} -->\n"
                                                                               "</body>", 1), encoding="utf-8")
            return
        elif op == "config":
            config = self.site.root / "config.yaml"
            config.write_text(f"title: Atlas {self.rng.randrange(100)}\nbase_url: https://example.org/\n"
                              f"hub_page_size: {self.rng.choice([10, 100])}\n", encoding="utf-8")
            return
        elif op == "link":
            others = [r for r in self.articles if r != relpath]
            if others:
                target = os.path.relpath(self.rng.choice(others), os.path.dirname(relpath))
                a["paragraphs"].append(f"Siehe [auch]({target}).")
        elif op == "burst":  # several files in one go, like git checkout
            for _ in range(self.rng.randint(2, 5)):
                self.step()
            return
        self.write(relpath, self.text(a))

    def fix_one(self) -> None:
        relpath = sorted(self.broken)[0]
        text = self.broken.pop(relpath)
        fields = {"role": None}
        for line in text.splitlines():
            if line.startswith(("role: ", "city: ")):
                fields[line[:4]] = line[6:]
        if self.taken(fields["role"], fields["city"]):
            (self.site.content / relpath).unlink()  # its place was taken meanwhile
            return
        self.write(relpath, text)
        self.articles[relpath] = self.reparse(text)

    @staticmethod
    def reparse(text: str) -> dict:
        import yaml
        meta = yaml.safe_load(text.split("---\n")[1])
        body = text.split("---\n", 2)[2]
        return {"role": meta["role"], "city": meta["city"], "region": meta.get("region"),
                "min": meta["salary"]["min"], "max": meta["salary"]["max"], "draft": meta.get("draft", False),
                "date": str(meta["date"]), "paragraphs": body.strip("\n").split("\n\n")}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_served_site_equals_a_fresh_build_after_50_random_edits(make_site, tmp_path, seed):
    site = make_site({})
    author = RandomAuthor(site, seed)
    for _ in range(6):
        author.add()
    preview = Preview(serve_config(site))
    assert preview.build().ok
    for number in range(1, 51):
        author.step()
        outcome = preview.build()
        assert outcome.ok == (not author.broken), (author.log, outcome.problems)
        if number % 10 == 0 and outcome.ok:
            assert site_files(preview.root) == fresh_build(site, tmp_path, f"fresh{number}"), author.log
    while author.broken:
        author.fix_one()
    assert preview.build().ok
    served = site_files(preview.root)
    assert served == fresh_build(site, tmp_path, "fresh-end"), author.log
    assert sum(name.endswith("/index.html") and name.count("/") == 2 for name in served) >= len(author.articles) - 1


class _Lines:
    def __init__(self):
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    def problems(self, problems) -> None:
        self.lines.extend(p.format() for p in problems)


class SlowSearchPreview(Preview):
    """The full build (the search update) takes long in the child process."""

    def build(self, search_defer: bool = False) -> Outcome:
        if not search_defer and os.getpid() != self.parent:
            time.sleep(60)
        return super().build(search_defer)


def run_updater(preview: Preview, then) -> SearchUpdater:
    out = _Lines()
    updater = SearchUpdater(preview, out, idle=0.05)

    async def run() -> None:
        updater.schedule()
        await then(updater)

    asyncio.run(run())
    updater.lines = out.lines
    return updater


def test_search_update_runs_in_a_child_and_hands_over_its_state(make_site):
    site = make_site({"bochum/strassenbauer.md": article()})
    preview = Preview(serve_config(site))
    assert preview.build().ok
    site.write("bochum/strassenbauer.md", article(body="Neuer Text für die Suche.\n"))
    outcome = preview.build(search_defer=True)
    assert outcome.ok and outcome.report.deferred == ["pagefind/"]

    async def wait(updater):
        while not updater.exitcodes:
            await asyncio.sleep(0.05)

    updater = run_updater(preview, wait)
    assert updater.exitcodes == [0] and "Search index updated in" in updater.lines[-1]
    assert preview.state is None  # the child's saved state is the current one
    outcome = preview.build(search_defer=True)
    assert outcome.ok and outcome.report.deferred == [] and outcome.report.changed == []


def test_a_change_stops_a_running_search_update(make_site):
    site = make_site({"bochum/strassenbauer.md": article()})
    preview = SlowSearchPreview(serve_config(site))
    preview.parent = os.getpid()
    assert preview.build().ok
    site.write("bochum/strassenbauer.md", article(min=3100))
    assert preview.build(search_defer=True).report.deferred == ["pagefind/"]
    state = preview.state

    async def interrupt(updater):
        while not updater.running:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        updater.cancel()  # what the next rebuild does first

    updater = run_updater(preview, interrupt)
    assert updater.exitcodes == [-signal.SIGTERM] and not updater.running
    assert updater.lines == []
    assert preview.state is state
    outcome = preview.build(search_defer=True)  # the preview goes on as if the update never started
    assert outcome.ok and outcome.report.deferred == ["pagefind/"]


# --- the watcher ------------------------------------------------------------------------------

def watch_and_do(folder: Path, mode: str, actions, delay: float = 0.2, settle: float = 1.0,
                 ignore=None) -> list[list[str]]:
    """Run a ChangeWatcher on ``folder`` in an event loop while ``actions()`` (an async function) runs."""
    calls: list[list[str]] = []

    async def run() -> None:
        watcher = ChangeWatcher(use_inotify=mode == "inotify", poll_interval=0.05)
        watcher.watch(str(folder), lambda paths: calls.append(paths), delay=delay, ignore=ignore)
        assert watcher.start()
        assert watcher.mode == mode
        await asyncio.sleep(0.1)
        try:
            await actions()
            await asyncio.sleep(settle)
        finally:
            watcher.stop()

    asyncio.run(run())
    return calls


@pytest.fixture(params=["inotify", "poll"])
def mode(request) -> str:
    if request.param == "inotify" and not sys.platform.startswith("linux"):
        pytest.skip("inotify is Linux only")
    return request.param


def test_a_burst_of_saves_is_one_call_with_every_path(tmp_path: Path, mode: str):
    folder = tmp_path / "content"
    folder.mkdir()

    async def burst():
        for i in range(20):  # spread over ~200 ms, each gap shorter than the delay
            (folder / f"a{i}.md").write_text(f"{i}")
            await asyncio.sleep(0.01)

    calls = watch_and_do(folder, mode, burst)
    assert len(calls) == 1
    assert sorted(calls[0]) == sorted(str(folder / f"a{i}.md") for i in range(20))


def test_changes_a_pause_apart_are_two_calls(tmp_path: Path, mode: str):
    folder = tmp_path / "content"
    (folder / "sub").mkdir(parents=True)

    async def two():
        (folder / "sub" / "a.md").write_text("1")
        await asyncio.sleep(0.8)
        (folder / "sub" / "a.md").write_text("2")

    calls = watch_and_do(folder, mode, two)
    assert calls == [[str(folder / "sub" / "a.md")], [str(folder / "sub" / "a.md")]]


def test_editor_litter_and_ignored_files_are_not_changes(tmp_path: Path, mode: str):
    folder = tmp_path / "content"
    folder.mkdir()

    async def litter():
        for name in (".a.md.swp", "a.md~", "4913", "#a.md#", "bild.png"):
            (folder / name).write_text("x")

    assert watch_and_do(folder, mode, litter, ignore=lambda path: not path.endswith(".md")) == []


def test_new_and_removed_folders_are_seen(tmp_path: Path, mode: str):
    folder = tmp_path / "content"
    folder.mkdir()

    async def folders():
        (folder / "neu").mkdir()
        await asyncio.sleep(0.3)
        (folder / "neu" / "a.md").write_text("x")  # inside a folder created after the start
        await asyncio.sleep(0.6)
        (folder / "neu" / "a.md").unlink()
        (folder / "neu").rmdir()

    calls = watch_and_do(folder, mode, folders, delay=0.1, ignore=lambda path: not path.endswith(".md"))
    assert len(calls) == 3, calls
    assert calls[0] == [str(folder / "neu")]
    assert calls[1] == [str(folder / "neu" / "a.md")]
    assert str(folder / "neu") in calls[2]


# --- the real server, in a subprocess ----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m careersite serve`` in a subprocess; its output lines are collected as they come."""

    def __init__(self, root: Path, *args: str):
        self.port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("GITHUB_ACTIONS", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "careersite", "serve", "--config", "config.yaml", "--port", str(self.port), *args],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.wait_for("Serving http://")
        except AssertionError:
            self.stop()
            raise AssertionError("the server did not start:\n" + self.output()) from None
        self.base = f"http://127.0.0.1:{self.port}/"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, after: int = 0) -> int:
        """Index of the first output line from ``after`` on that contains ``text``."""
        def find():
            return next((i + 1 for i, line in enumerate(self.lines[after:], after) if text in line), None)
        return eventually(find) - 1

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def get(self, path: str, accept: str = "text/html") -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request("GET", path, headers={"Accept": accept})
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)


@pytest.fixture
def server_for(make_site):
    started: list[Server] = []

    def start(files: dict[str, str], *args: str) -> tuple[object, Server]:
        site = make_site(files)
        server = Server(site.root, *args)
        started.append(server)
        return site, server

    yield start
    for server in started:
        server.stop()


def test_serves_edits_shows_the_error_page_and_recovers(server_for):
    site, server = server_for({"bochum/strassenbauer.md": article(), "essen/baecker.md": article("Bäcker", "Essen")})
    assert "Serving http://127.0.0.1:" in server.output() and "drafts shown" in server.output()
    status, page = server.get("/bochum/strassenbauer/")
    assert status == 200 and "3.000" in page
    assert "livereload.js" in page  # the reload script is injected
    assert not site.output.exists()

    site.write("bochum/strassenbauer.md", article(min=3456, max=4567))
    eventually(lambda: "3.456" in server.get("/bochum/strassenbauer/")[1])
    eventually(lambda: "3.456" in server.get("/bochum/")[1])  # the city hub lists it too

    page_before_error = server.get("/essen/baecker/")[1]
    site.write("bochum/strassenbauer.md", article().replace("role:", "rolle:"))
    status, page = eventually(lambda: (r := server.get("/essen/baecker/"))[0] == 500 and r)
    assert "The site could not be rebuilt" in page
    assert '<p class="where">content/bochum/strassenbauer.md:2:1</p>' in page  # file and line
    assert "unknown key &#x27;rolle&#x27;" in page  # the message
    assert "Hint: did you mean &#x27;role&#x27;?" in page  # and the hint
    assert "livereload.js" in page  # so that it reloads itself once fixed
    css = re.search(r'href="[./]*(static/[^"]+\.css)"', page_before_error)[1]
    assert server.get("/" + css, accept="text/css")[0] == 200  # other files still come from the last good build
    server.wait_for("Rebuild failed after 1 change (content/bochum/strassenbauer.md)")

    site.write("bochum/strassenbauer.md", article(min=3333))
    status, page = eventually(lambda: (r := server.get("/bochum/strassenbauer/"))[0] == 200 and r)
    assert "3.333" in page

    site.write("bochum/koch.md", article("Koch", "Bochum"))
    eventually(lambda: server.get("/bochum/koch/")[0] == 200)
    (site.content / "bochum" / "koch.md").unlink()
    eventually(lambda: server.get("/bochum/koch/")[0] == 404)
    status, page = server.get("/bochum/koch/")
    assert "Seite nicht gefunden" in page  # the site's own 404 page


def test_a_burst_of_20_saves_is_one_rebuild(server_for):
    site, server = server_for({"bochum/strassenbauer.md": article()})
    for i in range(20):
        site.write(f"essen/beruf-{i}.md", article(f"Beruf {i}", "Essen"))
    server.wait_for("Rebuil")
    eventually(lambda: server.get("/essen/beruf-19/")[0] == 200)
    time.sleep(1.0)  # a second rebuild, if any, would be logged by now
    assert server.count("Rebuil") == 1, server.output()
    assert "Rebuilt after 21 changes (content/essen, " in server.output(), server.lines[-1]  # the folder and 20 files


def test_after_the_search_index_catches_up_the_served_site_equals_a_fresh_build(server_for, tmp_path):
    site, server = server_for({"bochum/strassenbauer.md": article(), "essen/baecker.md": article("Bäcker", "Essen")})
    mark = len(server.lines)
    site.write("essen/baecker.md", article("Bäcker", "Essen", body="Brötchen und Brezeln.\n"))
    (site.content / "bochum" / "strassenbauer.md").unlink()
    site.write("muenster/koch.md", article("Koch", "Münster", region="Münsterland"))
    line = server.lines[server.wait_for("Rebuil", after=mark)]
    assert "the search index follows" in line
    server.wait_for("Search index updated in", after=mark)
    served = site_files(site.root / ".cache" / "careersite" / "serve")
    assert any(name.startswith("pagefind/") for name in served)
    assert served == fresh_build(site, tmp_path, "fresh")


def test_a_template_change_rebuilds_the_pages_that_use_it(server_for):
    site, server = server_for({"bochum/strassenbauer.md": article()})
    base = site.root / "templates" / "base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("</body>", "<p>VORLAGE-NEU</p>\n</body>", 1),
                    encoding="utf-8")
    eventually(lambda: "VORLAGE-NEU" in server.get("/bochum/strassenbauer/")[1])
    assert "VORLAGE-NEU" in server.get("/")[1]


def test_a_rebuild_with_worker_processes_keeps_the_server_running(server_for):
    # enough pages that a template change is rendered by forked workers, which the pool ends with SIGTERM
    files = {f"stadt-{c}/beruf-{r}.md": article(f"Beruf {r}", f"Stadt {c}") for c in range(12) for r in range(16)}
    site, server = server_for(files)
    base = site.root / "templates" / "base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("</body>", "<p>ALLE-NEU</p>\n</body>", 1),
                    encoding="utf-8")
    line = server.lines[server.wait_for("Rebuil")]
    assert int(re.search(r"(\d+) files updated", line)[1]) >= 200, line
    eventually(lambda: "ALLE-NEU" in server.get("/stadt-3/beruf-7/")[1])
    time.sleep(0.5)
    assert server.proc.poll() is None and "Stopped." not in server.output()
    server.stop()
    assert server.proc.returncode == 0 and server.lines[-1] == "Stopped."


def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """A request sent byte for byte as written: no client normalises the path."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data


def test_traversal_probes_never_leave_the_site(server_for, tmp_path):
    site, server = server_for({"bochum/strassenbauer.md": article()})
    secret = b"TOP-SECRET-7f3a"
    (site.root / "secret.txt").write_bytes(secret)
    (site.root / ".cache" / "careersite" / "secret.txt").write_bytes(secret)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "index.html").write_bytes(b"<html><head></head>" + secret)
    root = site.root / ".cache" / "careersite" / "serve"
    (root / "leak.txt").symlink_to(site.root / "secret.txt")
    (root / "escape").symlink_to(site.root)
    (root / "outdir").symlink_to(outside)
    (root / "bochum" / "leak.html").symlink_to(site.root / "secret.txt")
    probes = [
        "/../secret.txt", "/../../secret.txt", "/../../../secret.txt", "/../../../../../../../../etc/passwd",
        "/%2e%2e/secret.txt", "/%2e%2e/%2e%2e/%2e%2e/secret.txt", "/%2E%2E/%2E%2E/%2E%2E/secret.txt",
        "/..%2f..%2f..%2fsecret.txt", "/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt", "/.%2e/.%2e/.%2e/secret.txt",
        "/%252e%252e/%252e%252e/%252e%252e/secret.txt", "/..%252f..%252f..%252fsecret.txt",
        "/..\\..\\..\\secret.txt", "/..%5c..%5c..%5csecret.txt", "/bochum/../../../../secret.txt",
        "/./../../../secret.txt", "//etc/passwd", "/%2fetc%2fpasswd", "/" + str(site.root / "secret.txt"),
        "//" + str(site.root / "secret.txt").lstrip("/"), "/%00/../../../secret.txt", "/index.html%00.txt",
        "/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt", "/..;/..;/..;/secret.txt",
        "http://127.0.0.1/../../../secret.txt", "/leak.txt", "/escape/secret.txt", "/escape/", "/outdir/",
        "/outdir/index.html", "/bochum/leak.html", "/.careersite-output", "/../../../config.yaml",
    ]
    assert len(probes) >= 20
    for probe in probes:
        status, data = raw_get(server.port, probe)
        assert secret not in data and b"root:x:0:0" not in data and b"Testatlas\nbase_url" not in data, probe
        assert status in (400, 403, 404), (probe, status)
    status, data = raw_get(server.port, "/bochum/strassenbauer/")  # the same socket code does fetch real pages
    assert status == 200 and b"Stra\xc3\x9fenbauer" in data


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists() and not os.environ.get("CHROMIUM_BINARY"),
                    reason="Chromium/ChromeDriver not installed")
def test_the_browser_reloads_by_itself_after_a_save(server_for):
    from support import browser
    if not browser.chromium_available():
        pytest.skip("Chromium/ChromeDriver not installed")
    site, server = server_for({"bochum/strassenbauer.md": article()})
    with browser.headless_chromium() as driver:
        driver.get(server.base + "bochum/strassenbauer/")
        eventually(lambda: driver.execute_script(
            "return !!(window.LiveReload && window.LiveReload.connector._isSocketConnected()"
            " && window.LiveReload.connector.protocol)"))
        driver.execute_script("window.notReloaded = true;")

        site.write("bochum/strassenbauer.md", article(body="Frisch gespeichert: NEUER-TEXT.\n"))
        eventually(lambda: "NEUER-TEXT" in driver.execute_script("return document.body.innerText"))
        assert driver.execute_script("return window.notReloaded === undefined")  # a real reload, not a patch

        site.write("bochum/strassenbauer.md", article().replace("role:", "rolle:"))
        eventually(lambda: driver.title.startswith("Build failed"))
        site.write("bochum/strassenbauer.md", article(body="Wieder da.\n"))
        eventually(lambda: "Wieder da." in driver.execute_script("return document.body.innerText"))


def test_port_in_use_is_a_clear_error(make_site):
    site = make_site({"bochum/strassenbauer.md": article()})
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "careersite", "serve", "--port", str(port)], cwd=site.root,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr


def test_stops_cleanly_on_sigterm(server_for):
    site, server = server_for({"bochum/strassenbauer.md": article()})
    server.stop()
    assert server.proc.returncode == 0
    assert server.lines[-1] == "Stopped."
    with contextlib.suppress(FileNotFoundError):
        leftovers = [p.name for p in (site.root / ".cache" / "careersite").iterdir() if "careersite-tmp" in p.name]
        assert leftovers == []


SERVE_KEEPS_STATE = """
import os, sys
from pathlib import Path
from careersite.config import load_config
from careersite.serve import Preview
import dataclasses
def config():
    return dataclasses.replace(load_config(Path("config.yaml")), drafts=True)
def age(*paths):  # as for files not touched since long before a build (their stat is trusted)
    for path in paths or Path("content").rglob("*.md"):
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 3600 * 10**9))
age()
assert Preview(config).build().ok  # writes the serve folder's state
preview = Preview(config)  # as a new serve session: loads that state
path = Path("content/essen/koch.md")
path.write_text(path.read_text(encoding="utf-8") + "Neu.\\n", encoding="utf-8")
age(path)
assert preview.build().ok
stored = [k for k, e in preview.state.sources.raw_items() if len(e) == 7 and k not in preview.state.sources._loaded]
assert stored, "some articles are still stored"
for chunk in Path(".cache/careersite").glob("state-*.sources-*.pickle"):
    os.truncate(chunk, 0)  # cut short by someone else while serve runs
print(len([preview.state.sources.article(k) for k in stored]), "read")
path = Path("content/essen/maler.md")
path.write_text(path.read_text(encoding="utf-8") + "Neu.\\n", encoding="utf-8")
age(path)
assert preview.build().ok
print("built")
"""


def test_serve_keeps_its_state_in_memory_not_mapped_from_files_others_may_cut_short(make_site):
    """A mapped file cut short kills the process that reads the lost part (SIGBUS): serve reads
    its state instead (found by review)."""
    files = {f"{c}/{r}.md": article(r.title(), c.title())
             for c in ("bochum", "essen", "hagen") for r in ("koch", "maler")}
    site = make_site(files, config="search: false\n")
    done = subprocess.run([sys.executable, "-c", SERVE_KEEPS_STATE], cwd=site.root, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert (done.returncode, done.stdout.split()[-1:]) == (0, ["built"]), done.stderr
