"""The built sample site as readers and machines meet it: valid HTML (Nu Html Checker), no axe-core
violations in headless Chromium at phone and desktop width (light and dark), working internal links,
and article pages that stay small.

The validator needs Java and the browser tests Chromium with chromedriver; without them those tests
are skipped with the reason (tests/support/install-test-deps.sh installs both, and CI runs it).
Set CAREERSITE_SCREENSHOTS=DIR to keep a full-page screenshot of every page the browser checks.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest
from conftest import REPO

from careersite.cli import main

SAMPLE_PAGES = {
    "start": "index.html",
    "city": "bochum/index.html",
    "profession": "berufe/strassenbauer/index.html",
    "article": "bochum/strassenbauer/index.html",
}
WIDTHS = (375, 1280)
MAX_TRANSFER = 30 * 1024  # bytes, gzip-compressed article HTML plus stylesheet


def build(config: Path, out: Path, *args: str) -> Path:
    assert main(["build", "-q", "--config", str(config), "--output", str(out / "output"),
                 "--cache-dir", str(out / "cache"), *args]) == 0
    return out / "output"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The repository's own sample site (config.yaml, content/, templates/), built once."""
    return build(REPO / "config.yaml", tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def at_scale(tmp_path_factory) -> Path:
    """A profession in 60 cities and a city with 150 professions: the article lists must stay short."""
    root = tmp_path_factory.mktemp("scale")
    content = root / "content"
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "config.yaml").write_text("title: Karriere-Atlas\nbase_url: https://example.org/\n", encoding="utf-8")

    def write(city: str, role: str, low: int) -> None:
        path = content / city.lower() / f"{role.lower().replace(' ', '-')}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\nrole: {role}\ncity: {city}\nregion: Region {city[-1]}\nstate: Land {city[-2]}\n"
                        f"salary:\n  min: {low}\n  max: {low + 900}\n  levels:\n"
                        f"    - {{label: Berufseinstieg, min: {low}, max: {low + 400}}}\n"
                        f"    - {{label: Mit Berufserfahrung, min: {low + 500}, max: {low + 900}}}\n"
                        f"date: 2026-11-01\ntags: [T{low % 7}]\n---\n" + "Ein Absatz über den Beruf. " * 150 + "\n",
                        encoding="utf-8")

    for n in range(60):
        write(f"Stadt{n:02d}", "Pflegefachkraft", 2800 + 10 * n)
    for n in range(150):
        write("Stadt00", f"Beruf {n:03d}", 2500 + 10 * n)
    return build(root / "config.yaml", root)


def transferred(out: Path, relpath: str) -> int:
    """Bytes on the wire for a page: its HTML and every stylesheet it links, each gzip-compressed."""
    path = out / relpath
    html = path.read_bytes()
    sheets = lxml.html.fromstring(html).xpath("//link[@rel='stylesheet']/@href")
    assert sheets
    return sum(len(gzip.compress(data, 9)) for data in [html, *((path.parent / s).read_bytes() for s in sheets)])


# --- no tools needed ------------------------------------------------------------------------

def html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_every_internal_link_resolves(sample):
    base = "https://example.org/"
    checked = 0
    for path in html_files(sample):
        page = lxml.html.fromstring(path.read_bytes())
        for _element, attribute, link, _ in page.iterlinks():
            if attribute not in ("href", "src"):
                continue
            if link.startswith(base):
                link = os.path.relpath(sample / link[len(base):], path.parent) + ("/" if link.endswith("/") else "")
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                continue  # an external link, or one of an article's own
            if path.name == "404.html" and parts.path.startswith("/"):
                target = sample / unquote(parts.path).lstrip("/")
            else:
                target = (path.parent / unquote(parts.path)) if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{path.relative_to(sample)}: {link} -> {target}"
            if parts.fragment and target.suffix == ".html":
                ids = lxml.html.fromstring(target.read_bytes()).xpath("//@id")
                assert parts.fragment in ids, f"{path.relative_to(sample)}: {link} has no #{parts.fragment}"
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("site", ["sample", "at_scale"])
def test_article_pages_stay_below_30_kb_transferred(site, request):
    out = request.getfixturevalue(site)
    articles = [p for p in html_files(out) if p.relative_to(out).as_posix().count("/") == 2
                and p.parent.parent.name not in ("berufe", "regionen", "bundeslaender")]
    assert len(articles) >= 18
    sizes = {p.relative_to(out).as_posix(): transferred(out, p.relative_to(out).as_posix()) for p in articles}
    biggest = max(sizes, key=sizes.get)
    assert sizes[biggest] <= MAX_TRANSFER, f"{biggest}: {sizes[biggest]} bytes"
    if site == "at_scale":
        page = lxml.html.fromstring((out / "stadt00/pflegefachkraft/index.html").read_bytes())
        assert len(page.xpath("//section[@aria-labelledby='vergleich_staedte']//tbody/tr")) == 10
        assert len(page.xpath("//section[@aria-labelledby='weitere_berufe']//li")) == 10


# --- Nu Html Checker (Java) -------------------------------------------------------------------

def test_nu_html_checker_reports_no_errors(sample):
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (tests/support/install-test-deps.sh installs it)")
    from support.validate import validate_html

    problems = validate_html(sample, errors_only=True)
    assert not problems, "\n".join(problems)


# --- axe-core in headless Chromium ---------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(sample):
    """One Chromium session for the module, and the sample site served over HTTP."""
    from support import browser as support

    if not support.chromium_available():
        pytest.skip(f"Chromium or chromedriver is not installed ({support.CHROMIUM_BINARY}, "
                    f"{support.CHROMEDRIVER}); tests/support/install-test-deps.sh installs them")
    with support.serve_directory(sample) as base, support.headless_chromium(width=WIDTHS[-1]) as driver:
        yield support, driver, base


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(SAMPLE_PAGES))
def test_axe_reports_no_violations(browser, name, width, scheme):
    support, driver, base = browser
    support._set_viewport(driver, width, 900)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
    driver.get(base + SAMPLE_PAGES[name])
    assert driver.execute_script("return window.innerWidth") == width
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"
    violations = support.run_axe(driver)
    folder = os.environ.get("CAREERSITE_SCREENSHOTS")
    if folder:
        support.screenshot(driver, Path(folder) / f"{name}-{width}-{scheme}.png")
    assert not violations, support.format_violations(violations)
