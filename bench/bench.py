#!/usr/bin/env python3
"""Build benchmark: prints a table of build scenarios at several corpus sizes.

    python bench/bench.py                 # N = 1,000 and 10,000
    python bench/bench.py --sizes 100000  # the large one (several minutes)
    python bench/bench.py --sizes 1000 --jobs 1 --repeat 3

Scenarios, each a separate ``python build.py`` process as a user or CI would run it:
cold (no cache, no output), no-op (nothing changed), one article edited, one article
added, one template edited, config edited. Columns: wall time, CPU time (user+sys of
the build and its workers), peak RSS (largest single process), pages rendered and
written, and rendered pages per second of wall time. Medians over --repeat runs.

The corpus comes from bench/corpus.py (deterministic) and is cached in --workdir.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from corpus import generate  # noqa: E402

_MEASURE = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    t = time.perf_counter()
    proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    wall = time.perf_counter() - t
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024,
                      "code": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr[-2000:]}))
""")


def measure(site: Path, *args: str) -> dict:
    """Run one build in a fresh process and return its figures."""
    cmd = [sys.executable, "-c", _MEASURE, sys.executable, str(REPO / "build.py"), "-v",
           "--config", str(site / "config.yaml"), *args]
    result = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    if result["code"] != 0:
        raise SystemExit(f"build failed:\n{result['stdout']}\n{result['stderr']}")
    line = next(x for x in result["stdout"].splitlines() if x.startswith("Built "))
    # "Built 1226 pages from 1000 articles in 2.85 s (1226 rendered, 910 written, 0 removed)"
    words = line.replace("(", " ").replace(",", " ").split()
    result["pages"] = int(words[1])
    result["rendered"] = int(words[words.index("rendered") - 1])
    result["written"] = int(words[words.index("written") - 1])
    result["stages"] = result["stdout"].splitlines()[-1].strip()
    return result


def prepare(workdir: Path, n: int, name: str = "site", search: bool = True) -> Path:
    """A site folder ``workdir/<name>-<n>`` with a corpus of ``n`` articles, the repo's templates and config."""
    corpus = workdir / f"corpus-{n}"
    if not (corpus / ".complete").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        generate(corpus, n)
        (corpus / ".complete").write_text("ok")
    site = workdir / f"{name}-{n}"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    shutil.copytree(corpus, site / "content", ignore=shutil.ignore_patterns(".complete"))
    shutil.copytree(REPO / "templates", site / "templates")
    shutil.copy(REPO / "config.yaml", site / "config.yaml")
    if not search:
        with open(site / "config.yaml", "a", encoding="utf-8") as fh:
            fh.write("search: false\n")
    # Let the kernel write the copied corpus (and discard the removed site's blocks) now, not
    # while the cold build runs: at 100,000 articles that is gigabytes of setup I/O.
    if hasattr(os, "sync"):
        os.sync()
    # An author's files were written long before the build. Copied ones have a new ctime, and a
    # build distrusts the stat of files changed within 2 s of its start (it checks their bytes
    # again in the next build): wait that out, so the no-op measured after the cold build is
    # the everyday one, not the first build after a copy.
    time.sleep(2.1)
    return site


def scenarios(site: Path, jobs: str) -> list[tuple[str, dict]]:
    args = ["--jobs", jobs]
    out = [("cold", measure(site, *args)), ("no-op", measure(site, *args))]
    first = sorted((site / "content").rglob("*.md"))[0]
    text = first.read_text(encoding="utf-8")
    first.write_text(text + "\nEin zusätzlicher Absatz für den Benchmark.\n", encoding="utf-8")
    out.append(("1 article edited", measure(site, *args)))
    new = site / "content" / "bench-neu" / "neuer-beruf.md"
    new.parent.mkdir(exist_ok=True)
    new.write_text(text.replace("role: ", "role: Neu ", 1).replace("city: ", "city: Neustadt ", 1), encoding="utf-8")
    out.append(("1 article added", measure(site, *args)))
    template = site / "templates" / "article.html"
    # inside the page's block, so that every article page's bytes change (as a real edit does)
    edited = template.read_text(encoding="utf-8").replace("<article>", "<article>\n<!-- benchmark edit -->", 1)
    assert "benchmark edit" in edited, "templates/article.html has no <article> tag to edit"
    template.write_text(edited, encoding="utf-8")
    out.append(("template edited", measure(site, *args)))
    config = site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "latest_count: 7\n", encoding="utf-8")
    out.append(("config edited", measure(site, *args)))
    return out


def compile_package() -> None:
    """Compile careersite's modules to bytecode once, as installing a package does.

    From a checkout (an editable install) Python compiles a changed module on import and
    caches it in __pycache__, unless PYTHONDONTWRITEBYTECODE is set (it is on some CI images
    and containers): then every build would compile the whole package again (~40 ms), which
    no installed copy pays.
    """
    import compileall
    compileall.compile_dir(REPO / "careersite", quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes")
    parser.add_argument("--jobs", default="0", help="worker processes (0 = one per core)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians are printed")
    parser.add_argument("--no-search", action="store_true", help="build without the Pagefind index")
    parser.add_argument("--workdir", default=os.environ.get("TMPDIR", "/tmp") + "/careersite-bench")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    compile_package()
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, jobs: {args.jobs}, "
          f"search index: {'no' if args.no_search else 'yes'}")
    header = (f"{'N':>7}  {'scenario':<17} {'wall s':>8} {'cpu s':>8} {'RSS MB':>7} {'rendered':>8} "
              f"{'written':>8} {'pages/s':>8}")
    print(header)
    print("-" * len(header))
    for n in (int(s) for s in args.sizes.split(",")):
        runs = [scenarios(prepare(workdir, n, search=not args.no_search), args.jobs) for _ in range(args.repeat)]
        for i, (name, _) in enumerate(runs[0]):
            rows = [run[i][1] for run in runs]
            wall = statistics.median(r["wall"] for r in rows)
            cpu = statistics.median(r["cpu"] for r in rows)
            rss = max(r["rss_mb"] for r in rows)
            rendered, written = rows[0]["rendered"], rows[0]["written"]
            rate = rendered / wall if rendered else 0
            print(f"{n:>7}  {name:<17} {wall:>8.2f} {cpu:>8.2f} {rss:>7.0f} {rendered:>8} {written:>8} {rate:>8.0f}",
                  flush=True)
            print(f"{'':>9}{rows[0]['stages']}")


if __name__ == "__main__":
    main()
