"""Incremental builds must give exactly the bytes of a cold build, after any sequence of changes.

A random but reproducible sequence of edits (body, salary, city, role, region, summary,
drafts), additions, renames, deletions, template and config edits is applied to one site
that is rebuilt incrementally after each step; a copy of the same sources is built cold
(``--full``, fresh cache) and every output file is compared byte for byte. Files a step did
not change must keep their mtime (so rsync and uploads see no change).
"""

from __future__ import annotations

import gc
import os
import random
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import article

CITIES = [("Bochum", "Ruhrgebiet"), ("Essen", "Ruhrgebiet"), ("Münster", "Münsterland"), ("Gießen", "Mittelhessen")]
ROLES = ["Straßenbauer", "Bäcker", "Fachkraft für Lagerlogistik", "IT-Koordinator Qualitätssicherung", "Koch"]


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _mtimes(root):
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


class Scenario:
    def __init__(self, site, rng: random.Random):
        self.site, self.rng = site, rng
        self.articles: dict[str, dict] = {}
        self.counter = 0

    def _text(self, spec: dict) -> str:
        text = article(spec["role"], spec["city"], spec["min"], spec["max"], region=spec["region"],
                       date=spec["date"])
        if spec.get("summary"):
            text = text.replace("---\n", f"---\nsummary: {spec['summary']}\n", 1)
        if spec.get("draft"):
            text = text.replace("---\n", "---\ndraft: true\n", 1)
        if spec.get("title"):
            text = text.replace("---\n", f"---\ntitle: {spec['title']}\n", 1)
        if spec.get("tags"):
            text = text.replace("---\n", f"---\ntags: [{', '.join(spec['tags'])}]\n", 1)
        return text + spec.get("extra", "")

    def _free_pair(self):
        used = {(a["role"], a["city"]) for a in self.articles.values()}
        free = [(r, c) for r in ROLES for c in CITIES if (r, c[0]) not in used]
        return self.rng.choice(free) if free else None

    def add(self) -> str:
        pair = self._free_pair()
        if pair is None:
            return "add skipped (grid full)"
        role, (city, region) = pair
        self.counter += 1
        path = f"src{self.counter}.md" if self.rng.random() < 0.3 else f"{city.lower()}/{self.counter}.md"
        low = self.rng.randrange(2400, 4000, 50)
        spec = {"role": role, "city": city, "region": region, "min": low,
                "max": low + self.rng.randrange(400, 1500, 50),
                "date": f"2026-{self.rng.randint(1, 11):02d}-{self.rng.randint(1, 28):02d}"}
        self.articles[path] = spec
        self.site.write(path, self._text(spec))
        return f"add {path}"

    def edit(self) -> str:
        if not self.articles:
            return self.add()
        path = self.rng.choice(sorted(self.articles))
        spec = self.articles[path]
        what = self.rng.choice(["body", "salary", "city", "role", "region", "summary", "draft", "date", "title",
                                "tags"])
        if what == "body":
            spec["extra"] = spec.get("extra", "") + f"\nNeuer Absatz {self.rng.random()}.\n"
        elif what == "salary":
            spec["max"] = spec["min"] + self.rng.randrange(400, 2000, 50)
        elif what in ("city", "role"):
            pair = self._free_pair()
            if pair is None:
                return "edit skipped"
            spec["role"] = pair[0]  # both, so the pair stays unique
            spec["city"], spec["region"] = pair[1]
        elif what == "region":
            spec["region"] = self.rng.choice(["Ruhrgebiet", "Rhein-Ruhr", "Münsterland"])
        elif what == "summary":
            spec["summary"] = self.rng.choice(["Kurz und gut.", "Ein anderer Teaser.", ""])
        elif what == "draft":
            spec["draft"] = not spec.get("draft", False)
        elif what == "title":
            spec["title"] = self.rng.choice(["Ein Titel", "Noch ein Titel", ""])
        elif what == "tags":
            spec["tags"] = self.rng.sample(["Bau", "Handwerk", "IT", "Pflege"], self.rng.randint(0, 2))
        else:
            spec["date"] = f"2026-{self.rng.randint(1, 11):02d}-{self.rng.randint(1, 28):02d}"
        self.site.write(path, self._text(spec))
        return f"edit {what} {path}"

    def rename(self) -> str:
        if not self.articles:
            return self.add()
        path = self.rng.choice(sorted(self.articles))
        self.counter += 1
        new = f"renamed/{self.counter}.md"
        (self.site.content / new).parent.mkdir(exist_ok=True)
        os.rename(self.site.content / path, self.site.content / new)
        self.articles[new] = self.articles.pop(path)
        return f"rename {path} -> {new}"

    def delete(self) -> str:
        if len(self.articles) < 2:
            return self.add()
        path = self.rng.choice(sorted(self.articles))
        (self.site.content / path).unlink()
        del self.articles[path]
        return f"delete {path}"

    def template(self) -> str:
        name = self.rng.choice(["article.html", "city.html", "index.html", "static/style.css", "base.html",
                                "partials/salary_table.html", "group.html"])
        path = self.site.root / "templates" / name
        marker = "/* x */\n" if name.endswith(".css") else "<!-- x -->\n"
        text = path.read_text(encoding="utf-8")
        if marker in text:
            text = text.replace(marker, "", 1)
        elif "{% block main %}\n" in text:  # text after a child template's blocks is dropped
            text = text.replace("{% block main %}\n", "{% block main %}\n" + marker, 1)
        else:
            text += marker
        path.write_text(text, encoding="utf-8")
        return f"template {name}"

    def config(self) -> str:
        path = self.site.root / "config.yaml"
        text = path.read_text(encoding="utf-8")
        size = self.rng.choice([2, 3, 100])
        lines = [line for line in text.splitlines() if not line.startswith("hub_page_size")]
        path.write_text("\n".join(lines) + f"\nhub_page_size: {size * 5 if size < 100 else 100}\n", encoding="utf-8")
        return f"config hub_page_size {size}"

    def step(self) -> str:
        op = self.rng.choices([self.add, self.edit, self.rename, self.delete, self.template, self.config],
                              weights=[4, 8, 2, 2, 1, 1])[0]
        return op()


def _recorded(monkeypatch, field: str = "relpath") -> list[str]:
    """The ``field`` of every page rendered from now on (in this process: tiny sites render here)."""
    from careersite.render import Renderer
    rendered: list[str] = []
    original = Renderer.render
    monkeypatch.setattr(Renderer, "render",
                        lambda self, page: rendered.append(getattr(page, field)) or original(self, page))
    return rendered


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_build_equals_cold_build_after_random_changes(make_site, tmp_path, seed):
    site = make_site(config="hub_page_size: 100\n")
    scenario = Scenario(site, random.Random(seed))
    for _ in range(6):
        scenario.add()
    assert site.build("-q") == 0
    log = []
    for step in range(25):
        log.append(scenario.step())
        before = _mtimes(site.output)
        old_files = _files(site.output)
        assert site.build("-q") == 0, log
        cold = tmp_path / f"cold-{seed}-{step}"
        shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("output", ".cache"))
        from careersite.cli import main
        assert main(["build", "-q", "--full", "--config", str(cold / "config.yaml"),
                     "--cache-dir", str(cold / ".fresh-cache")]) == 0
        got, want = _files(site.output), _files(cold / "output")
        assert got.keys() == want.keys(), (log, sorted(got.keys() ^ want.keys()))
        diff = [rel for rel in got if got[rel] != want[rel]]
        assert not diff, (log, diff[:5])
        after = _mtimes(site.output)
        touched = [rel for rel in after if rel in before and old_files[rel] == got[rel] and after[rel] != before[rel]]
        assert not touched, (log, "unchanged files were rewritten", touched[:5])
        shutil.rmtree(cold)


def test_a_title_edit_re_renders_the_hubs_but_not_the_other_article_pages(make_site, monkeypatch):
    """Article pages show other articles' salary, draft badge and tags (Article.peer), not their
    titles: a title edit re-renders its page and the lists that show titles, nothing else."""
    from careersite.config import load_config
    from careersite.pipeline import build
    rendered = _recorded(monkeypatch)
    site = make_site({"bochum/a.md": article(), "bochum/b.md": article("Bäcker", "Bochum"),
                      "essen/a.md": article("Straßenbauer", "Essen")})
    config = load_config(site.root / "config.yaml")
    build(config)
    rendered.clear()
    site.write("bochum/a.md", article().replace("---\n", "---\ntitle: Ganz neuer Titel\n", 1))
    build(config)
    assert {"bochum/strassenbauer/index.html", "bochum/index.html", "berufe/strassenbauer/index.html"} <= set(rendered)
    assert "bochum/baecker/index.html" not in rendered  # same city
    assert "essen/strassenbauer/index.html" not in rendered  # same profession
    rendered.clear()
    site.write("bochum/a.md", article(min=2000, max=5000))  # a salary: the comparison and related lists show it
    build(config)
    assert {"bochum/baecker/index.html", "essen/strassenbauer/index.html"} <= set(rendered)


def test_noop_build_renders_and_writes_nothing(make_site):
    from careersite.config import load_config
    from careersite.pipeline import build
    site = make_site({"bochum/a.md": article(), "essen/b.md": article("Bäcker", "Essen")})
    config = load_config(site.root / "config.yaml")
    first = build(config)
    assert first.cold and first.written == first.pages
    again = build(config)
    assert (again.cold, again.rendered, again.written, again.removed) == (False, 0, 0, 0)


def test_damaged_output_file_is_repaired(make_site):
    site = make_site({"bochum/a.md": article()})
    assert site.build("-q") == 0
    page = site.output / "bochum" / "strassenbauer" / "index.html"
    good = page.read_bytes()
    page.write_bytes(b"tampered")
    (site.output / "stray.html").write_text("not ours")
    assert site.build("-q") == 0
    assert page.read_bytes() == good
    assert not (site.output / "stray.html").exists()


def test_corrupt_cache_is_ignored(make_site):
    site = make_site({"bochum/a.md": article()})
    assert site.build("-q") == 0
    want = site.files()
    for path in (site.root / ".cache" / "careersite").iterdir():
        if path.is_file() and path.name != "lock":
            path.write_bytes(b"\x00garbage")
    assert site.build("-q") == 0
    assert site.files() == want


def _clock_ahead(monkeypatch, seconds=3600):
    """Builds (through pipeline.build) start ``seconds`` later than now: the sources' ctime,
    which no test can set back (os.utime moves it to now), is then old enough to be trusted."""
    import types

    from careersite import pipeline
    monkeypatch.setattr(pipeline, "time", types.SimpleNamespace(
        time_ns=lambda: time.time_ns() + seconds * 1_000_000_000, perf_counter=time.perf_counter))


def _age_sources(site, seconds=3600):
    """Move source mtimes into the past, as for files not touched since long before a build
    (their ctime moves to now: see _clock_ahead)."""
    for path in site.content.rglob("*.md"):
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 1_000_000_000))


def test_proven_noop_skips_the_state_and_detects_changes(make_site, monkeypatch):
    from careersite import pipeline
    from careersite.config import load_config
    _clock_ahead(monkeypatch)
    site = make_site({"bochum/a.md": article(), "essen/b.md": article("Bäcker", "Essen")})
    _age_sources(site)
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    loads = []
    real_load = pipeline.load_state
    monkeypatch.setattr(pipeline, "load_state", lambda *a, **kw: loads.append(real_load(*a, **kw)) or loads[-1])
    # the state loads while a child process finds the sources: here the sources come first
    monkeypatch.setattr(pipeline._Background, "ready",
                        lambda self: self._fh is None or bool(select.select([self._fh], [], [], 10)[0]))
    report = pipeline.build(config)
    assert loads == [None] and report.rendered == 0 and report.pages > 0  # stopped before the head file
    # a changed source is seen (its mtime is new, so neither trusted nor equal)
    site.write("bochum/a.md", article(max=4100))
    report = pipeline.build(config)
    assert len(loads) == 2 and loads[-1].sources and report.written >= 1
    assert "4.100" in site.page("bochum/strassenbauer/index.html")
    # a damaged output file is seen as well
    _age_sources(site)
    pipeline.build(config)
    page = site.output / "essen" / "baecker" / "index.html"
    page.write_text("kaputt", encoding="utf-8")
    report = pipeline.build(config)
    assert report.written == 1 and "Bäcker" in page.read_text(encoding="utf-8")


def _count_reads(monkeypatch):
    """Record the sources a build parses and those it checks by their bytes (see read_sources)."""
    from careersite import pipeline
    parsed: list[str] = []
    checked: list[str] = []
    real_read, real_same = pipeline._read_chunk, pipeline._same_bytes

    def read_chunk(chunk):
        out = real_read(chunk)
        parsed.extend(source.relpath for source, read in out if read is not None)
        return out
    monkeypatch.setattr(pipeline, "_read_chunk", read_chunk)
    monkeypatch.setattr(pipeline, "_same_bytes", lambda path, previous, relpath: checked.append(relpath)
                        or real_same(path, previous, relpath))
    return parsed, checked


def test_a_build_that_checks_doubted_sources_again_saves_its_later_start(make_site, monkeypatch):
    """Sources written just before a build are not trusted by their stat: the next build checks
    them again (by their bytes). When that build started late enough to trust their stat, its
    state says so, although it found nothing changed: the build after it checks only what was
    edited (before, every build read them all again until a real change saved the state)."""
    import types

    from careersite import pipeline
    from careersite.config import load_config
    site = make_site({"bochum/a.md": article(), "essen/b.md": article("Bäcker", "Essen")})
    config = load_config(site.root / "config.yaml")
    written = max(p.stat().st_mtime_ns for p in site.content.rglob("*.md"))
    second = 1_000_000_000
    clock = [written + second]  # the first build starts a second after the files were written
    monkeypatch.setattr(pipeline, "time", types.SimpleNamespace(time_ns=lambda: clock[0],
                                                                 perf_counter=time.perf_counter))
    parsed, checked = _count_reads(monkeypatch)
    pipeline.build(config)
    assert sorted(parsed) == ["bochum/a.md", "essen/b.md"]
    parsed.clear()
    clock[0] = written + 10 * second  # nothing changed, but both stats were too recent to trust
    report = pipeline.build(config)
    assert sorted(checked) == ["bochum/a.md", "essen/b.md"] and parsed == [] and report.written == 0
    checked.clear()
    edited = site.write("essen/b.md", article("Bäcker", "Essen", max=4100))
    os.utime(edited, ns=(written + 15 * second, written + 15 * second))
    clock[0] = written + 20 * second
    report = pipeline.build(config)
    assert checked == parsed == ["essen/b.md"] and report.written >= 1
    assert "4.100" in site.page("essen/baecker/index.html")


def test_a_doubted_source_with_its_old_stat_but_new_bytes_is_read_again(make_site, monkeypatch, tmp_path):
    """An edit within the file system's clock tick keeps size and mtime: the bytes tell."""
    from careersite import pipeline
    from careersite.config import load_config
    site = make_site({"bochum/a.md": article(), "essen/b.md": article("Bäcker", "Essen", max=4100)})
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)  # (the files were just written: their stat is not trusted next time)
    path = site.content / "essen/b.md"
    st = path.stat()
    path.write_text(article("Bäcker", "Essen", max=4200), encoding="utf-8")  # same size, same inode
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns, path.stat().st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    parsed, checked = _count_reads(monkeypatch)
    report = pipeline.build(config)
    assert parsed == ["essen/b.md"] and "essen/b.md" in checked and report.written >= 1
    assert "4.200" in site.page("essen/baecker/index.html")
    assert _cold_diff(site, tmp_path, "cold") == []


def test_an_old_source_rewritten_with_its_size_and_mtime_kept_is_read_again(make_site, monkeypatch, tmp_path):
    """``cp -p``, ``touch -r`` and tools that keep times can put a file's old mtime back on new
    bytes of the same size, long after the last build: its ctime still moves, so it is checked
    by its bytes (before, a trusted stat kept the old page)."""
    from careersite import pipeline
    from careersite.config import load_config
    site = make_site({"bochum/a.md": article(), "essen/b.md": article("Bäcker", "Essen", max=4100)})
    _clock_ahead(monkeypatch)
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    pipeline.build(config)  # (started well after every file was written: their stats are trusted now)
    path = site.content / "essen/b.md"
    st = path.stat()
    path.write_text(article("Bäcker", "Essen", max=4200), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns, path.stat().st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    parsed, checked = _count_reads(monkeypatch)
    report = pipeline.build(config)
    assert checked == parsed == ["essen/b.md"] and report.written >= 1
    assert "4.200" in site.page("essen/baecker/index.html")
    assert _cold_diff(site, tmp_path, "cold") == []


def test_sources_whose_stat_moved_but_not_their_bytes_are_not_parsed_again(make_site, monkeypatch, tmp_path):
    """A fresh checkout (CI restoring the cache) or a copy gives every file a new mtime and
    inode: each is checked by its bytes, and only the edited one is parsed; the model of the
    last build is updated, not made anew, and the output equals a cold build's."""
    from careersite import pipeline
    from careersite.config import load_config
    files = {f"{c}/{r}.md": article(r.title(), c.title())
             for c in ("bochum", "essen", "hagen") for r in ("koch", "maler", "tischler")}
    site = make_site(files, config="search: false\n")
    _clock_ahead(monkeypatch)
    _age_sources(site)
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    pipeline._last_model.clear()  # as in a new process: the model comes from the state
    moved = site.root / "content-old"
    site.content.rename(moved)
    shutil.copytree(moved, site.content, copy_function=shutil.copy)  # new inodes and mtimes
    shutil.rmtree(moved)
    _age_sources(site)
    edited = site.write("essen/koch.md", files["essen/koch.md"] + "\nNoch ein Absatz.\n")
    os.utime(edited, ns=(edited.stat().st_atime_ns, edited.stat().st_mtime_ns - 600 * 1_000_000_000))
    parsed, checked = _count_reads(monkeypatch)
    report = pipeline.build(config)
    assert parsed == ["essen/koch.md"] and len(checked) == 9
    assert report.model_updated and not report.cold
    # the others are taken as they were stored: only its old entry and its page's peers are
    # decoded (its city's and its profession's two others each), not all nine
    assert 0 < len(report.state.sources._loaded) <= 5
    assert "Noch ein Absatz." in site.page("essen/koch/index.html")
    assert _cold_diff(site, tmp_path, "cold") == []
    parsed.clear()
    checked.clear()
    pipeline._last_model.clear()
    touched = site.content / "bochum/koch.md"  # saved again unchanged: a new, old enough mtime
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns - 60 * 1_000_000_000))
    assert pipeline.build(config).written == 0 and parsed == [] and checked == ["bochum/koch.md"]


def test_noop_fast_path_replays_warnings_for_strict(make_site, capsys):
    site = make_site({"essen/a.md": article("Koch", "Essen", region="Ruhrgebiet"),
                      "essen/b.md": article("Bäcker", "Essen", region="Rhein-Ruhr")})
    _age_sources(site)
    assert site.build("-q") == 0
    assert site.build("-q") == 0
    assert "the region of 'Essen' is written differently" in capsys.readouterr().err
    assert site.build("-q", "--strict") == 1


def test_parallel_builds_in_one_process_keep_the_cache_sound(make_site):
    """In-process reads followed by forked renders, repeatedly, leave a sound cache.

    This is a soundness check, not a reproduction: the corruption it guards against (a
    forked worker closing the parent's SQLite connection) is a race that does not show on
    every run. The two tests below check the fix itself.
    """
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from corpus import generate

    from careersite.config import load_config
    from careersite.pipeline import BuildOptions, build
    site = make_site()
    generate(site.content, 260)
    config = load_config(site.root / "config.yaml")
    options = BuildOptions(jobs=2)
    assert build(config, options).written > 200  # parallel read and render
    first = sorted(site.content.rglob("*.md"))[0]
    for n in range(3):  # few dirty files: read in this process, then render in forked workers
        first.write_text(first.read_text(encoding="utf-8") + f"\nAbsatz {n}.\n", encoding="utf-8")
        report = build(config, BuildOptions(jobs=2, full=n == 2))
        assert report.written >= 1
    import sqlite3
    conn = sqlite3.connect(config.cache_dir / "markup.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_state_is_saved_in_chunks_and_one_edit_rewrites_its_chunks(make_site):
    from careersite.cache import _chunk, load_state
    from careersite.config import load_config
    from careersite.pipeline import build
    files = {f"stadt{i}/beruf{i}.md": article(f"Beruf {i}", f"Stadt {i}") for i in range(40)}
    site = make_site(files)
    config = load_config(site.root / "config.yaml")
    build(config)
    cache = config.cache_dir

    def chunk_files():
        return {p.name: p.stat().st_mtime_ns for p in cache.glob("state-*.sources-*.pickle")}

    before = chunk_files()
    assert len(before) > 10
    old_outputs = load_state(cache, config.output_dir).outputs
    site.write("stadt3/beruf3.md", article("Beruf 3", "Stadt 3") + "\nNoch ein Absatz.\n")  # its page changes
    new_outputs = build(config).state.outputs
    after = chunk_files()
    # the chunks of the source and of the output records that changed or went (its page, the
    # search index), and no other
    replaced = {int(name.split(".sources-")[1][:2]) for name in set(after) - set(before)}
    changed = [rel for rel, record in new_outputs.items() if old_outputs.get(rel) != record]
    changed += [rel for rel in old_outputs if rel not in new_outputs]  # (the search index's renamed files)
    assert "stadt-3/beruf-3/index.html" in changed
    assert replaced == {_chunk("stadt3/beruf3.md")} | {_chunk(rel) for rel in changed} != set(range(64))
    assert len(set(before) - set(after)) == len(replaced)
    state = load_state(cache, config.output_dir)
    assert len(state.sources) == 40 and state.outputs == new_outputs
    assert "Noch ein Absatz" in site.page("stadt-3/beruf-3/index.html")
    # a damaged chunk makes the state unusable as a whole: a cold start, never a crash
    next(iter(cache.glob("state-*.sources-*.pickle"))).write_bytes(b"\x80garbage")
    assert load_state(cache, config.output_dir).sources == {}
    assert site.build("-q") == 0



def test_forked_child_never_closes_the_parents_sqlite_connection(tmp_path):
    import os

    from careersite import cache, markup
    store = cache.MarkupStore(tmp_path / "m.sqlite3")
    store.put("k", markup.convert("Hallo"))
    store.flush()
    inherited = store._conn
    pid = os.fork()
    if pid == 0:  # the child: using the store must open a new connection and keep the old one alive
        ok = store.html("k") == "<p>Hallo</p>" and store._conn is not inherited and inherited in cache._INHERITED
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.html("k") == "<p>Hallo</p>"  # the parent's connection still works
    store.close()


def test_workers_are_forked_only_with_the_store_closed(tmp_path, monkeypatch):
    from careersite import cache, markup, pipeline
    store = cache.MarkupStore(tmp_path / "m.sqlite3")
    store.put("k", markup.convert("Hallo"))
    store.flush()
    assert store._conn is not None
    seen = []
    real = os.fork

    def spy():
        seen.append(store._conn)  # the store's connection at the moment a worker is forked
        return real()

    monkeypatch.setattr(os, "fork", spy)
    monkeypatch.setitem(pipeline._worker, "store", store)
    assert sorted(pipeline._parallel(len, [[1]] * 4, 2, 400)) == [1, 1, 1, 1]
    assert seen == [None, None]


def test_warm_rebuild_updates_the_model_when_terms_and_names_stay(make_site, tmp_path, monkeypatch):
    """serve's warm rebuilds update the last model and plan when no term, URL or name changes
    (bodies, titles, salaries, dates, tags); they equal a fresh model and plan, and the
    output equals a cold build."""
    from careersite import pipeline
    from careersite.config import load_config
    from careersite.model import materialized
    from careersite.render import Theme, plan
    site = make_site({"bochum/a.md": article(), "bochum/b.md": article("Bäcker", "Bochum"),
                      "essen/a.md": article("Straßenbauer", "Essen"),
                      "muenster/a.md": article("Koch", "Münster", region="Münsterland")})
    config = load_config(site.root / "config.yaml")
    models = []
    real = pipeline.build_site
    monkeypatch.setattr(pipeline, "build_site", lambda *a, **k: models.append(1) or real(*a, **k))
    report = pipeline.build(config)
    warm = pipeline.BuildOptions(warm=True)
    bochum_b = article("Bäcker", "Bochum").replace("---\n", "---\ntitle: Neu\n", 1)
    for step, (path, text, rebuilt) in enumerate([
            ("bochum/a.md", article() + "\n## Aufgaben\n\nMehr.\n", False),  # body
            ("essen/a.md", article("Straßenbauer", "Essen") + "\nAnders.\n", False),
            ("bochum/a.md", article(body="Neuer erster Absatz.\n"), False),  # the summary changes
            ("bochum/b.md", bochum_b, False),  # title
            ("bochum/b.md", bochum_b + "x\n", False),
            ("bochum/b.md", article("Bäcker", "Bochum", min=2000, max=2600), False),  # salary
            ("essen/a.md", article("Straßenbauer", "Essen", date="2026-11-20"), False),  # date: sitemap, feeds
            ("essen/a.md", article("Straßenbauer", "Essen").replace("---\n", "---\ntags: [Bau]\n", 1), False),
            ("muenster/a.md", article("Koch", "Münster", region="Westfalen"), True),  # a region: terms change
            ("bochum/a.md", article("Straßenbauer", "Bochum").replace("---\n", "---\ndraft: true\n", 1), True),
            ("essen/b.md", article("Koch", "Essen"), True)]):  # a new article
        site.write(path, text)
        models.clear()
        report = pipeline.build(config, warm, state=report.state)
        assert bool(models) == rebuilt, step
        _, _, listed, raw, got_site, got_pages, _ = pipeline._last_model[str(config.output_dir)]
        assert raw == [report.state.sources.raw(relpath) for relpath in listed]
        fresh = real([report.state.sources.article(relpath) for relpath in listed], config)
        assert materialized(got_site) == fresh, step  # every article, term and digest
        assert got_pages == plan(fresh, Theme.load(config.templates_dir))[0], step
        cold = tmp_path / f"cold{step}"
        shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("output", ".cache"))
        pipeline.build(load_config(cold / "config.yaml"))
        assert _files(site.output) == _files(cold / "output"), step


def test_background_work_survives_a_dying_child_and_passes_errors_on():
    from careersite.pipeline import _Background
    parent = os.getpid()

    def dies_in_child():
        if os.getpid() != parent:
            os._exit(3)
        return "done here"

    def fails():
        raise ValueError("boom")

    assert _Background(sorted, [3, 1, 2]).result() == [1, 2, 3]
    assert _Background(dies_in_child).result() == "done here"
    with pytest.raises(ValueError, match="boom"):
        _Background(fails).result()


def test_background_work_tells_when_its_result_is_ready():
    import time

    from careersite.pipeline import _Background
    job = _Background(time.sleep, 0.5)
    assert not job.ready()
    time.sleep(1.5)
    assert job.ready() and job.result() is None and job.ready()
    fails = _Background(int, "x")
    with pytest.raises(ValueError):
        fails.result()
    with pytest.raises(ValueError):  # asked again: the same error, not the work done twice
        fails.result()


def test_background_work_not_asked_for_ends_even_when_its_result_is_large(tmp_path):
    # The child used to hold the read end of its own pipe: with a result larger than the
    # pipe's buffer, close() waited forever for a child blocked in write() (a build after the
    # cache was deleted, with 10,000 pages in the output folder, hung).
    code = ("import time\nfrom careersite.pipeline import _Background\n"
            "job = _Background(lambda: 'x' * 10_000_000)\ntime.sleep(0.5)\njob.close()\nprint('closed')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout == "closed\n", done.stderr


def test_a_build_without_its_state_beside_a_large_output_folder_ends(make_site):
    site = make_site({"bochum/a.md": article()})
    assert site.build("-q") == 0
    for path in (site.root / ".cache" / "careersite").glob("state-*"):
        path.unlink()  # the output folder stays; its scan is then not needed
    code = ("import sys\nfrom careersite import pipeline, write\nfrom careersite.config import load_config\n"
            "real = write.scan_output\n"
            "pipeline.scan_output = lambda out: {**real(out), **{f'x{n}.html': (n, n) for n in range(200_000)}}\n"
            "pipeline.build(load_config('config.yaml'))\nprint('built')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=site.root,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert done.stdout == "built\n", done.stderr


def test_damaged_compiled_templates_are_compiled_again(make_site):
    site = make_site({"bochum/a.md": article()})
    assert site.build("-q") == 0
    want = site.files()
    compiled = list((site.root / ".cache" / "careersite" / "templates").iterdir())
    assert compiled, "the compiled templates are cached"
    from jinja2.bccache import bc_magic
    for n, path in enumerate(compiled):  # a foreign file, a broken checksum, a cut-off entry
        path.write_bytes([b"\x00garbage", bc_magic + b"\x80garbage", path.read_bytes()[:60]][n % 3])
    from careersite import pipeline
    pipeline._environments.clear()  # as in a new process: load the templates again
    site.write("bochum/a.md", article() + "\nNeu.\n")
    assert site.build("-q") == 0
    site.write("bochum/a.md", article())
    assert site.build("-q") == 0
    assert site.files() == want


def test_a_failed_build_leaves_no_child_process_behind(make_site):
    import subprocess
    site = make_site({"bochum/a.md": article()})
    assert site.build("-q") == 0
    site.write("bochum/a.md", "---\nrole: [kaputt\n---\n")
    assert site.build("-q") == 1
    children = subprocess.run(["ps", "--ppid", str(os.getpid()), "-o", "pid=,stat="], capture_output=True,
                              text=True).stdout.split("\n")
    assert not [c for c in children if c.strip().endswith("Z")], children  # no zombie scanner



# --- dependencies found by review: each case failed before its fix -------------------------

def _cold_diff(site, tmp_path, name):
    from careersite import pipeline
    from careersite.config import load_config
    cold = tmp_path / name
    shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("output", ".cache"))
    pipeline.build(load_config(cold / "config.yaml"))
    got, want = _files(site.output), _files(cold / "output")
    return sorted(k for k in got.keys() | want.keys() if got.get(k) != want.get(k))


@pytest.mark.parametrize("change", [
    article("Köchin", "Essen"),  # the linked article moves
    article("Koch", "Essen").replace("---\n", "---\ndraft: true\n", 1),  # ... becomes a draft
    None,  # ... is deleted
])
def test_links_to_other_articles_follow_them(make_site, tmp_path, change):
    site = make_site({"bochum/a.md": article(body="Siehe [Koch](../essen/b.md#gehalt).\n"),
                      "essen/b.md": article("Koch", "Essen")})
    assert site.build("-q") == 0
    if change is None:
        (site.content / "essen/b.md").unlink()
    else:
        site.write("essen/b.md", change)
    site.build("-q")
    assert _cold_diff(site, tmp_path, "cold") == []


@pytest.mark.parametrize("field", ["state", "region"])
def test_hubs_follow_region_and_state_names_chosen_from_other_cities(make_site, tmp_path, field):
    site = make_site({"bochum/a.md": article(), "essen/b.md": article("Koch", "Essen", **{
        field: "nordrhein-westfalen" if field == "state" else "ruhrgebiet"})})
    assert site.build("-q") == 0
    site.write("essen/b.md", article("Koch", "Essen"))
    assert site.build("-q") == 0
    assert _cold_diff(site, tmp_path, "cold") == []


def test_sitemap_follows_terms_behind_an_unchanged_article_url(make_site, tmp_path):
    site = make_site({"x.md": article("A B", "C", region="", state=""), "y.md": article("Koch", "Essen")},
                     config='urls:\n  article: "{city}-{role}.html"\n')
    assert site.build("-q") == 0
    site.write("x.md", article("B", "C A", region="", state=""))  # same URL c-a-b.html, other terms
    assert site.build("-q") == 0
    assert _cold_diff(site, tmp_path, "cold") == []


def test_feeds_follow_source_date_epoch(make_site, tmp_path, monkeypatch):
    undated = "\n".join(line for line in article().splitlines() if not line.startswith("date:")) + "\n"
    site = make_site({"bochum/a.md": undated})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert site.build("-q") == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    assert site.build("-q") == 0
    assert b"2027-01-15" in (site.output / "feed.xml").read_bytes()
    assert _cold_diff(site, tmp_path, "cold") == []


def test_adding_an_article_re_renders_only_what_lists_it(make_site, monkeypatch):
    """An article's index in the model moves when one is added before it; its page key must not."""
    from careersite.config import load_config
    from careersite.pipeline import build
    rendered = _recorded(monkeypatch)
    site = make_site({"essen/a.md": article("Koch", "Essen"), "muenster/a.md": article("Koch", "Münster"),
                      "muenster/b.md": article("Bäcker", "Münster")})
    config = load_config(site.root / "config.yaml")
    build(config)
    rendered.clear()
    site.write("bochum/a.md", article("Straßenbauer", "Bochum"))  # sorts first: every index moves
    build(config)
    assert "bochum/strassenbauer/index.html" in rendered
    assert "muenster/baecker/index.html" not in rendered  # another city and profession
    assert "essen/koch/index.html" not in rendered


def test_the_next_build_updates_the_model_and_plan_it_finds_in_the_state(make_site, tmp_path):
    from careersite import pipeline
    from careersite.config import load_config
    site = make_site({"bochum/a.md": article(), "essen/b.md": article("Koch", "Essen"),
                      "essen/c.md": article("Bäcker", "Essen", 2000, 2500)})
    config = load_config(site.root / "config.yaml")
    assert not pipeline.build(config).model_updated  # cold: nothing to update
    pipeline._last_model.clear()  # as in a new process: only the state on disk
    site.write("essen/b.md", article("Koch", "Essen", 2100, 3900, body="Neu.\n## Gehalt\n\nMehr.\n"))
    report = pipeline.build(config)
    assert report.model_updated and report.rendered > 0
    assert _cold_diff(site, tmp_path, "cold1") == []
    pipeline._last_model.clear()
    site.write("essen/d.md", article("Maler", "Essen"))  # a new profession: made anew
    assert not pipeline.build(config).model_updated
    assert _cold_diff(site, tmp_path, "cold2") == []
    pipeline._last_model.clear()
    (site.root / "config.yaml").write_text((site.root / "config.yaml").read_text() + "latest_count: 3\n")
    config = load_config(site.root / "config.yaml")
    assert not pipeline.build(config).model_updated  # another config: made anew
    assert _cold_diff(site, tmp_path, "cold3") == []


def test_a_state_written_by_other_code_or_with_a_foreign_snapshot_is_not_used(make_site, tmp_path, monkeypatch):
    from careersite import cache, pipeline
    from careersite.config import load_config
    site = make_site({"bochum/a.md": article(), "essen/b.md": article("Koch", "Essen")})
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    pipeline._last_model.clear()
    site.write("essen/b.md", article("Koch", "Essen", 2100, 3900))
    # other careersite code (a development checkout changes rules without a version bump)
    monkeypatch.setattr(cache, "code_version", lambda: "0.0.0+other")
    report = pipeline.build(config)
    assert report.cold and not report.model_updated
    assert _cold_diff(site, tmp_path, "cold1") == []
    pipeline._last_model.clear()
    state = cache.load_state(config.cache_dir, config.output_dir)
    state.model = state.model[:5]  # a snapshot of another shape
    cache.save_state(config.cache_dir, config.output_dir, state)
    site.write("essen/b.md", article("Koch", "Essen", 2200, 3900))
    report = pipeline.build(config)
    assert not report.cold and not report.model_updated
    assert _cold_diff(site, tmp_path, "cold2") == []


def test_a_template_edit_re_renders_the_pages_that_use_it(make_site, monkeypatch):
    """Page keys hold the digest of the templates each page kind uses (extends, includes,
    imports) and of the static files' names, not of the whole theme."""
    from careersite.config import load_config
    from careersite.pipeline import build
    rendered = _recorded(monkeypatch, "kind")
    site = make_site({"bochum/a.md": article(), "bochum/b.md": article("Bäcker", "Bochum"),
                      "essen/a.md": article("Straßenbauer", "Essen")})
    config = load_config(site.root / "config.yaml")
    build(config)
    templates = site.root / "templates"

    def edit(name: str, old: str, new: str) -> set[str]:
        path = templates / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        rendered.clear()
        build(config)
        return set(rendered)

    assert edit("city.html", "{% block main %}\n", "{% block main %}\n<!-- x -->\n") == {"city"}
    assert edit("partials/salary_table.html", "<table", "<!-- x --><table") == {"article", "city", "profession"}
    assert edit("group.html", "{% block main %}\n", "{% block main %}\n<!-- x -->\n") == {"region", "state"}
    every_template_page = {"index", "404", "article", "city", "profession", "region", "state", "professions"}
    assert edit("base.html", "<body>", "<body><!-- x -->") == every_template_page
    assert edit("static/style.css", "\n", "\n/* x */\n") == every_template_page | {"static"}  # a new fingerprint
    # a template named by a variable may be any: such a template depends on every template
    dynamic = "{% include term.slug ~ '.none' ignore missing %}\n"
    assert edit("city.html", "{% block main %}\n", "{% block main %}\n" + dynamic) == {"city"}
    assert edit("partials/az.html", "<nav", "<!-- y --><nav") >= {"city", "profession", "index", "professions"}
    assert "city" in edit("partials/pager.html", "{", "<!-- z -->{")
    assert edit("partials/city_list.html", "{", "<!-- z -->{") >= {"city", "index"}  # city: by the variable


@pytest.mark.parametrize("how", ["static file", "static file a template includes", "./partials", "partials//"])
def test_theme_edits_the_keys_must_see(make_site, tmp_path, how):
    """Found by review: a static file without a dot in its name has no fingerprint, and Jinja
    resolves "./partials/x.html" and "partials//x.html" to partials/x.html."""
    site = make_site({"bochum/a.md": article(), "essen/a.md": article("Koch", "Essen")})
    templates = site.root / "templates"
    if how.startswith("static"):
        changed = templates / "static" / "CNAME"
        changed.write_text("alt.example.org\n")
        if how == "static file a template includes":
            base = templates / "base.html"
            base.write_text(base.read_text().replace("<body>", '<body>{% include "static/CNAME" %}', 1))
    else:
        city = templates / "city.html"
        name = "./partials/pager.html" if how == "./partials" else "partials//pager.html"
        city.write_text(city.read_text().replace('{% include "partials/pager.html" %}', f'{{% include "{name}" %}}'))
        changed = templates / "partials" / "pager.html"
    assert site.build("-q") == 0
    changed.write_text("<!-- neu -->\n" + changed.read_text())
    assert site.build("-q") == 0
    assert _cold_diff(site, tmp_path, "cold") == []


def test_a_failure_before_rendering_keeps_its_error_and_cleans_up(make_site, monkeypatch):
    from careersite import pipeline
    from careersite.config import load_config
    site = make_site({"bochum/a.md": article()})
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    site.write("bochum/a.md", article(min=3100))

    def broken(*args, **kwargs):
        raise RuntimeError("broken renderer")

    monkeypatch.setattr(pipeline, "Renderer", broken)
    with pytest.raises(RuntimeError, match="broken renderer"):
        pipeline.build(config)
    assert [p.name for p in site.root.iterdir() if "careersite-tmp" in p.name] == []


def test_a_build_goes_on_when_no_process_can_be_forked(make_site, monkeypatch):
    """Found by review: the output scan's fork failing (EAGAIN) must not stop the build or leak
    its pipe; the scan then runs in this process."""
    import errno

    from careersite import pipeline
    from careersite.config import load_config
    site = make_site({"bochum/a.md": article(), "essen/b.md": article("Koch", "Essen")})
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    site.write("bochum/a.md", article(min=3100))

    def no_fork():
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(pipeline.os, "fork", no_fork)
    pipeline._last_model.clear()  # (and what earlier tests left)
    gc.collect()
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    report = pipeline.build(config)
    assert report.written >= 1 and "3.100" in site.page("bochum/strassenbauer/index.html")
    if before is not None:
        # (the state a build returns maps its chunk files; so does the model it keeps for the next)
        del report
        pipeline._last_model.clear()
        gc.collect()  # (the failed forks' tracebacks hold frames that refer to it)
        assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.skipif(not hasattr(os, "fork"), reason="background work runs in forked children")
def test_background_work_is_ready_with_more_than_1024_open_files():
    """select() fails for descriptors >= 1024 (found by review); serve may hold that many."""
    import resource

    from careersite.pipeline import _Background
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("cannot open 1,200 files here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200) if hard == resource.RLIM_INFINITY
                                                 else min(max(soft, 1200), hard), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        job = _Background(sorted, [2, 1])
        assert job._fh.fileno() >= 1024
        deadline = time.monotonic() + 30
        while not job.ready() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert job.result() == [1, 2]
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="background work runs in forked children")
def test_a_build_that_cannot_start_its_second_child_reaps_the_first(make_site, monkeypatch):
    from careersite import pipeline
    from careersite.config import load_config
    site = make_site({"bochum/a.md": article()})
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    forked, pipes = [], []
    real_fork, real_pipe = os.fork, os.pipe

    def fork():
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    def pipe():
        pipes.append(1)
        if len(pipes) == 2:
            raise OSError(24, "Too many open files")
        return real_pipe()

    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(os, "pipe", pipe)
    with pytest.raises(OSError, match="Too many open files"):
        pipeline.build(config)
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):  # reaped already
        os.waitpid(forked[0], os.WNOHANG)


def test_a_rebuild_after_one_edit_unpickles_only_the_articles_its_pages_read(make_site, tmp_path):
    from careersite import pipeline
    from careersite.cache import load_state
    from careersite.config import load_config
    cities = ["Bochum", "Essen", "Dortmund", "Hagen", "Herne", "Witten"]
    roles = ["Koch", "Bäcker", "Maler", "Tischler", "Gärtner", "Friseur"]
    files = {f"{c.lower()}/{r.lower()}.md": article(r, c, 2000 + 100 * i, 2600 + 100 * j)
             for i, c in enumerate(cities) for j, r in enumerate(roles)}
    site = make_site(files, config="search: false\n")  # (the search index reads every article's text)
    _age_sources(site)  # (stats this recent are not trusted: every file would be read again)
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    pipeline._last_model.clear()  # as in a new process: only the state on disk
    site.write("essen/koch.md", files["essen/koch.md"] + "\nNoch ein Absatz.\n")  # the body only
    state = load_state(config.cache_dir, config.output_dir)
    assert len(state.sources) == 36 and not state.sources._loaded  # nothing unpickled by loading
    report = pipeline.build(config, state=state)
    assert report.model_updated and report.rendered >= 1
    read = report.state.sources
    # its page reads its city's and its profession's articles (11 besides itself), nothing else
    assert 0 < len(read._loaded) <= 11
    assert all(relpath.startswith("essen/") or relpath.endswith("/koch.md") for relpath in read._loaded)
    assert _cold_diff(site, tmp_path, "cold") == []
    # the next build finds the other 35 entries in their stored form, unchanged
    pipeline._last_model.clear()
    again = load_state(config.cache_dir, config.output_dir)
    assert sum(len(entry) == 7 for _, entry in again.sources.raw_items()) == 36
    assert again.sources == read  # as a mapping: the same (Source, ReadResult) pairs


def test_a_damaged_entry_in_the_state_makes_the_build_start_again_cold(make_site, tmp_path):
    from careersite import pipeline
    from careersite.cache import _atomic_pickle, _read_chunk, load_state
    from careersite.config import load_config
    files = {f"{c}/{r}.md": article(r.title(), c.title()) for c in ("bochum", "essen") for r in ("koch", "maler")}
    site = make_site(files)
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    pipeline._last_model.clear()
    # every stored read result made unreadable, though each chunk file still loads
    for path in config.cache_dir.glob("state-*.sources-*.pickle"):
        entries, outputs = _read_chunk(path)
        broken = {k: (*e[:4], (b"\x80garbage" * (len(e[4][0]) // 8 + 1),), *e[5:]) for k, e in entries.items()}
        _atomic_pickle(path, (broken, outputs), chunk=True)
    assert len(load_state(config.cache_dir, config.output_dir).sources) == 4
    site.write("essen/koch.md", files["essen/koch.md"] + "\nNoch ein Absatz.\n")
    messages: list[str] = []
    report = pipeline.build(config, pipeline.BuildOptions(log=messages.append))
    assert any("cannot be read" in m and "building without the cache's state" in m for m in messages)
    assert report.cold
    assert _cold_diff(site, tmp_path, "cold") == []
    pipeline._last_model.clear()
    site.write("essen/koch.md", files["essen/koch.md"])
    assert pipeline.build(config).model_updated  # and the state is whole again
    assert _cold_diff(site, tmp_path, "cold2") == []


def test_a_loaded_state_keeps_its_stored_entries_when_its_files_are_replaced(make_site, tmp_path):
    """serve keeps a build's state in memory; the next build writes new chunk files and deletes
    the old ones, which entries carried over still point into (they are mapped, not reopened)."""
    from careersite import pipeline
    from careersite.cache import load_state
    from careersite.config import load_config
    files = {f"{c}/{r}.md": article(r.title(), c.title())
             for c in ("bochum", "essen", "hagen") for r in ("koch", "maler")}
    site = make_site(files, config="search: false\n")
    _age_sources(site)
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    pipeline._last_model.clear()
    state = load_state(config.cache_dir, config.output_dir)
    for path in config.cache_dir.glob("state-*"):
        path.unlink()
    site.write("essen/koch.md", files["essen/koch.md"] + "\nNoch ein Absatz.\n")
    report = pipeline.build(config, state=state)
    assert report.model_updated and not report.cold
    assert len(report.state.sources._loaded) >= 3  # its peers came from the deleted files
    assert _cold_diff(site, tmp_path, "cold") == []


def test_articles_loaded_from_the_state_share_their_repeated_values(make_site):
    from careersite import pipeline
    from careersite.cache import load_state
    from careersite.config import load_config
    files = {f"{c}/koch.md": article("Koch", c.title(), 2000, 2600) for c in ("bochum", "essen", "hagen")}
    site = make_site(files, config="search: false\n")
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    reads = load_state(config.cache_dir, config.output_dir).sources
    one_by_one = [reads[relpath][1].article for relpath in sorted(files)]
    assert one_by_one[0].role is one_by_one[1].role is one_by_one[2].role  # one object, as when read from the files
    assert one_by_one[0].salary is one_by_one[2].salary and one_by_one[0].date is one_by_one[1].date
    reads = load_state(config.cache_dir, config.output_dir).sources
    bulk = reads.articles(sorted(files))
    assert bulk == one_by_one
    assert bulk[0].role is bulk[1].role is bulk[2].role
    assert bulk[0].salary is bulk[2].salary
    assert [reads.article(relpath) for relpath in sorted(files)] == bulk  # and kept for later asks
    assert all(reads.article(relpath) is a for relpath, a in zip(sorted(files), bulk, strict=True))


# --- damage the checksums find (found by review: each case gave a wrong page or a crash before) ----

def _chunk_blob(path: Path) -> tuple[bytearray, int]:
    """A chunk file's bytes and where its blob of stored read results starts (see cache._read_chunk)."""
    data = bytearray(path.read_bytes())
    return data, 20 + int.from_bytes(data[8:16], "little")


def _built_then_template_edited(make_site, damage):
    """A site of four articles, built; ``damage(config)`` done to its cache, then a template
    edited (every article page is rendered again, from the state): -> (site, report, log)."""
    from careersite import pipeline
    from careersite.config import load_config
    files = {f"{c}/{r}.md": article(r.title(), c.title()) for c in ("bochum", "essen") for r in ("koch", "maler")}
    site = make_site(files, config="search: false\n")
    _age_sources(site)
    config = load_config(site.root / "config.yaml")
    pipeline.build(config)
    pipeline._last_model.clear()
    damage(config)
    template = site.root / "templates" / "article.html"
    template.write_text(template.read_text(encoding="utf-8") + "{# edited #}\n", encoding="utf-8")
    messages: list[str] = []
    report = pipeline.build(config, pipeline.BuildOptions(log=messages.append))
    return site, report, messages


def _change_a_stored_title(config):
    changed = 0
    for path in config.cache_dir.glob("state-*.sources-*.pickle"):
        data, blob = _chunk_blob(path)
        at = data.find(b"Koch in", blob)  # a title: still a valid stored article, with another text
        if at > 0:
            data[at: at + 4] = b"KOCH"
            path.write_bytes(data)
            changed += 1
    assert changed


def test_a_changed_byte_in_a_stored_article_is_found_by_its_checksum(make_site, tmp_path):
    site, report, messages = _built_then_template_edited(make_site, _change_a_stored_title)
    assert any("cannot be read" in m for m in messages) and report.cold
    assert _cold_diff(site, tmp_path, "cold") == []


@pytest.mark.parametrize("damage", ["all deleted", "html changed"])
def test_a_markdown_cache_entry_gone_or_changed_makes_the_build_start_again(make_site, tmp_path, damage):
    import sqlite3

    def change(config):  # as if deleted or damaged meanwhile
        with sqlite3.connect(config.cache_dir / "markup.sqlite3") as db:
            if damage == "all deleted":
                db.execute("DELETE FROM markup")
            else:
                assert db.execute("UPDATE markup SET html = replace(html, 'Viel zu tun', 'VIEL zu tun')").rowcount

    site, report, messages = _built_then_template_edited(make_site, change)
    assert any("Markdown cache's entry" in m and "building without the cache's state" in m for m in messages)
    assert report.cold
    assert _cold_diff(site, tmp_path, "cold") == []
    assert b"VIEL" not in b"".join(_files(site.output).values())


def test_a_changed_byte_in_a_compiled_template_is_found_by_its_checksum(make_site, tmp_path):
    from careersite import pipeline
    site = make_site({"bochum/a.md": article()}, config="search: false\n")
    assert site.build("-q") == 0
    want = site.files()
    changed = 0
    for path in (site.root / ".cache" / "careersite" / "templates").iterdir():
        data = path.read_bytes()
        if b"skip" in data:  # a constant of base.html's compiled code: still loads, prints otherwise
            path.write_bytes(data.replace(b"skip", b"SKIP"))
            changed += 1
    assert changed
    pipeline._environments.clear()  # as in a new process: load the templates again
    assert site.build("-q", "--full") == 0
    assert site.files() == want
