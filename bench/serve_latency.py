"""Save-to-reload latency of ``python build.py serve``: file write to new page served.

For each corpus size it generates a site (bench/corpus.py), starts the real server in a
subprocess, waits for its first (cold) build, then edits articles one at a time and polls
the edited page over HTTP until the new text is served. The time from just before the
write to that response is the latency an author sees (the debounce delay, the warm
incremental build and the HTTP response; the browser's own reload comes on top).

    python bench/serve_latency.py                        # 1,000 and 10,000 articles
    python bench/serve_latency.py --articles 1000 --edits 20

Edits alternate between the body of an article (its page changes) and its title (its
page, both hubs that list it, the feeds and the start page may change). The first edit
after start-up is reported on its own and left out of the statistics. Prints figures
only; the target is <= 300 ms at 10,000 articles.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from corpus import generate  # noqa: E402

RUN = f"{os.getpid()}t{int(time.time())}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, root: Path, port: int):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "careersite", "serve", "--config", "config.yaml", "--port", str(port)],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, after: int = 0, timeout: float = 3600) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if text in line:
                    return line
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + "\n".join(self.lines))
            time.sleep(0.05)
        raise TimeoutError(text)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wait_served(port: int, path: str, token: str, timeout: float = 60) -> float:
    """Poll ``path`` until its body contains ``token``; return the moment it did (perf_counter)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    deadline = time.perf_counter() + timeout
    try:
        while time.perf_counter() < deadline:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status == 200 and token.encode() in body:
                return time.perf_counter()
            time.sleep(0.002)
    finally:
        conn.close()
    raise TimeoutError(f"{token} never appeared on {path}")


def url_of(text: str) -> str:
    from careersite.urls import slugify
    role = re.search(r"^role: (.+)$", text, re.M)[1].strip().strip('"')
    city = re.search(r"^city: (.+)$", text, re.M)[1].strip().strip('"')
    return f"/{slugify(city)}/{slugify(role)}/"


def edit(path: Path, number: int) -> tuple[str, str]:
    """Change one article; return (token to wait for, what kind of edit)."""
    text = path.read_text(encoding="utf-8")
    token = f"Messpunkt{RUN}n{number:04d}x"  # unique per run: a kept corpus holds earlier runs' tokens
    if number % 2:
        _, front, body = text.split("---\n", 2)
        path.write_text(f"---\n{front}---\n{body}\n{token} ist neu.\n", encoding="utf-8")
        return token, "body"
    if re.search(r"^title: ", text, re.M):
        text = re.sub(r"^title: .*$", f"title: {token}", text, count=1, flags=re.M)
    else:
        text = text.replace("\n---\n", f"\ntitle: {token}\n---\n", 1)
    path.write_text(text, encoding="utf-8")
    return token, "title"


def measure(n: int, edits: int, keep: Path | None) -> dict:
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix=f"serve-latency-{n}-"))
    try:
        if not (root / "content").is_dir():
            shutil.copytree(REPO / "templates", root / "templates", dirs_exist_ok=True)
            (root / "config.yaml").write_text("title: Latenz\nbase_url: https://example.org/\n", encoding="utf-8")
            started = time.perf_counter()
            generate(root / "content", n)
            print(f"  generated {n} articles in {time.perf_counter() - started:.1f} s", flush=True)
        port = free_port()
        started = time.perf_counter()
        server = Server(root, port)
        try:
            server.wait_for("Serving http://")
            print(f"  server up after {time.perf_counter() - started:.1f} s: "
                  f"{next(line for line in server.lines if line.startswith('Built'))}", flush=True)
            sources = sorted((root / "content").rglob("*.md"))
            step = max(1, len(sources) // (edits + 1))
            latencies, builds, kinds = [], [], []
            for number in range(edits + 1):
                path = sources[(number * step + 7) % len(sources)]
                url = url_of(path.read_text(encoding="utf-8"))
                mark = len(server.lines)
                time.sleep(0.3)  # let the previous rebuild's reload settle
                t0 = time.perf_counter()
                token, kind = edit(path, number)
                latency = wait_served(port, url, token) - t0
                line = server.wait_for("Rebuil", after=mark)
                build = float(re.search(r" in ([\d.]+) s", line)[1])
                if number == 0:
                    print(f"  first edit ({kind}): {latency * 1000:.0f} ms (build {build * 1000:.0f} ms)")
                    continue
                latencies.append(latency)
                builds.append(build)
                kinds.append(kind)
        except BaseException:
            print("server output:\n  " + "\n  ".join(server.lines), file=sys.stderr)
            raise
        finally:
            server.stop()
        pairs = list(zip(latencies, kinds, strict=True))
        by_kind = {k: statistics.median([lat for lat, kk in pairs if kk == k]) for k in set(kinds)}
        return {"n": n, "latencies": latencies, "builds": builds, "by_kind": by_kind}
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--edits", type=int, default=10, help="measured edits per size (default 10)")
    parser.add_argument("--keep", type=Path, help="use (and keep) this project folder; reuses its corpus")
    args = parser.parse_args()
    results = []
    for n in args.articles:
        print(f"{n} articles:", flush=True)
        results.append(measure(n, args.edits, args.keep))
    print()
    print(f"{'articles':>9} {'edits':>6} {'median':>8} {'p90':>8} {'max':>8} {'build med':>10} "
          f"{'body med':>9} {'title med':>10}   (save -> new page served, ms)")
    for r in results:
        lat = sorted(r["latencies"])
        p90 = lat[min(len(lat) - 1, int(round(0.9 * (len(lat) - 1))))]
        print(f"{r['n']:>9,} {len(lat):>6} {statistics.median(lat) * 1000:>8.0f} {p90 * 1000:>8.0f} "
              f"{lat[-1] * 1000:>8.0f} {statistics.median(r['builds']) * 1000:>10.0f} "
              f"{r['by_kind'].get('body', 0) * 1000:>9.0f} {r['by_kind'].get('title', 0) * 1000:>10.0f}")


if __name__ == "__main__":
    main()
