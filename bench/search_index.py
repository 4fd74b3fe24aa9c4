#!/usr/bin/env python3
"""Search index benchmark: prints how long each part of the Pagefind stage takes, and its size.

    python bench/search_index.py                  # N = 1,000 and 10,000
    python bench/search_index.py --sizes 100000 --key-only   # the bundle key at 100,000 articles

Per size: the bundle key (runs on every build, even a no-op one), the records (body HTML
from the cache, tags stripped), Pagefind indexing (``pagefind --service``), the canonical
filter files, and the pagefind/ folder (files, bytes). Then the serve case: one article
edited, rebuilt with ``search_defer=True`` (what the browser waits for) and the follow-up
build that only re-indexes. The corpus comes from bench/corpus.py (deterministic) and is
cached in --workdir.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench import prepare  # noqa: E402
from careersite.cache import MarkupStore, State  # noqa: E402
from careersite.config import load_config  # noqa: E402
from careersite.content import discover  # noqa: E402
from careersite.extras import search  # noqa: E402
from careersite.model import build_site  # noqa: E402
from careersite.pipeline import BuildOptions, build, read_sources  # noqa: E402


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def best(fn, *args, repeat: int = 5) -> float:
    return min(timed(fn, *args)[1] for _ in range(repeat))


class PeakMemory:
    """The peak resident memory (VmHWM) of the Pagefind processes started inside the block (Linux)."""

    def __enter__(self):
        self.mb, self.popen, self.done = 0.0, subprocess.Popen, threading.Event()
        started = []

        def popen(*args, **kwargs):
            started.append(self.popen(*args, **kwargs))
            return started[-1]

        def watch():
            while not self.done.wait(0.1):
                for proc in started:
                    try:
                        status = Path(f"/proc/{proc.pid}/status").read_text()
                    except OSError:
                        continue
                    kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0)
                    self.mb = max(self.mb, kb / 1024)

        subprocess.Popen = popen
        self.thread = threading.Thread(target=watch, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        subprocess.Popen = self.popen
        self.done.set()
        self.thread.join()


def folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def key_only(n: int) -> None:
    """The key at ``n`` articles, on a stand-in model (only what key() reads)."""
    import hashlib
    from types import SimpleNamespace
    config = load_config(REPO / "config.yaml")
    digests = tuple(hashlib.sha256(str(i).encode()).hexdigest() + hashlib.sha256(b"c%d" % i).hexdigest()[:32]
                    + f"stadt-{i % 100}/beruf-{i}/" for i in range(n))
    site = SimpleNamespace(config=config, article_digests=digests)
    print(f"{n:>7} articles: bundle key {best(search.key, site) * 1000:.1f} ms (best of 5)")


def run(workdir: Path, n: int) -> None:
    site_dir = prepare(workdir, n, name="search-site")
    config = load_config(site_dir / "config.yaml")
    cold, cold_s = timed(build, config, BuildOptions())
    store = MarkupStore(config.cache_dir / "markup.sqlite3")
    read = read_sources(discover(config.content_dir), config, State(), store, BuildOptions())
    site = build_site([r.article for _, r in read.values() if r.article], config)
    executable, _ = search.pagefind_binary(config)

    key_s = best(search.key, site)
    records, records_s = timed(search.records, site, store.html)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with PeakMemory() as peak:
        made, index_s = timed(search.PagefindService(executable).index, records)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    index_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    _, canonical_s = timed(search.canonical, made)
    store.close()
    count, size = folder_size(config.output_dir / "pagefind")
    content = sum(len(r["content"]) for r in records)
    print(f"{n:>7} articles: cold build {cold_s:.2f} s, search included (load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"         bundle key {key_s * 1000:.1f} ms | records {records_s:.2f} s ({content / 1e6:.1f} MB text) | "
          f"Pagefind {index_s:.2f} s (CPU {index_cpu:.1f} s, peak memory {peak.mb:.0f} MB) | "
          f"canonical {canonical_s * 1000:.0f} ms")
    print(f"         pagefind/: {count} files, {size / 1e6:.1f} MB "
          f"({sum(1 for p in made if p.startswith('fragment/'))} fragments)")

    state = cold.state
    noop, noop_s = timed(build, config, BuildOptions(), state)
    edited = sorted(config.content_dir.rglob("*.md"))[n // 2]
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text + "\nEin neuer Absatz über Weiterbildung.\n", encoding="utf-8")
    os.utime(edited, ns=(time.time_ns() - 10**10, time.time_ns() - 10**10))  # old enough to trust its stat
    deferred, deferred_s = timed(build, config, BuildOptions(search_defer=True), noop.state)
    follow, follow_s = timed(build, config, BuildOptions(), deferred.state)
    edited.write_text(text, encoding="utf-8")
    os.utime(edited, ns=(time.time_ns() - 5 * 10**9, time.time_ns() - 5 * 10**9))
    both, both_s = timed(build, config, BuildOptions(), follow.state)
    print(f"         no-op build {noop_s:.2f} s | one article edited: {both_s:.2f} s with the index, "
          f"{deferred_s:.2f} s deferred (deferred={deferred.deferred}) + follow-up {follow_s:.2f} s "
          f"(written {follow.written})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/careersite-bench"))
    parser.add_argument("--key-only", action="store_true", help="measure only the bundle key (any size, fast)")
    args = parser.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        key_only(n) if args.key_only else run(args.workdir, n)


if __name__ == "__main__":
    main()
