"""Site search (careersite/extras/search.py): the Pagefind bundle, its determinism, and the search box.

The browser tests run Pagefind's own JS (pagefind.js and its WebAssembly) in headless
Chromium against the built site, served over HTTP; they are skipped when Chromium is absent.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys

import pytest

from careersite.cache import MarkupStore, State
from careersite.config import load_config
from careersite.content import discover
from careersite.extras import search
from careersite.model import build_site
from careersite.pipeline import BuildOptions, build, read_sources
from tests.conftest import REPO, article
from tests.support.browser import chromium_available, headless_chromium, serve_directory

needs_browser = pytest.mark.skipif(not chromium_available(), reason="Chromium/ChromeDriver not installed")
OBERHAUSEN_QS = "oberhausen/it-koordinator-qualitaetssicherung/"


def sample_site(make_site, name: str = "site"):
    """The repository's 18 sample articles, built with the repository's config."""
    site = make_site(name=name)
    shutil.rmtree(site.content)
    shutil.copytree(REPO / "content", site.content)
    shutil.copy(REPO / "config.yaml", site.root / "config.yaml")
    return site


def pagefind_files(site) -> dict[str, bytes]:
    return {rel: data for rel, data in site.files().items() if rel.startswith("pagefind/")}


def model(site):
    """The site model of a built site (what the search stage reads)."""
    config = load_config(site.root / "config.yaml")
    store = MarkupStore(config.cache_dir / "markup.sqlite3")
    read = read_sources(discover(config.content_dir), config, State(), store, BuildOptions())
    return build_site([r.article for _, r in read.values() if r.article], config), store


def unpacked(data: bytes) -> bytes:
    """A Pagefind data file without its gzip layer."""
    return gzip.decompress(data)


def filter_values(files: dict[str, bytes]) -> dict[str, list[str]]:
    """Each filter of the index with its values, read from the index files themselves."""
    entry = json.loads(files["pagefind/pagefind-entry.json"])
    meta = search._load(files[f"pagefind/pagefind.{entry['languages']['de']['hash']}.pf_meta"])
    out = {}
    for name, file_hash in meta[3]:
        values = search._load(files[f"pagefind/filter/{file_hash}.pf_filter"])
        out[name] = [value for value, _pages in values[1]]
    return out


# --- the text that is indexed ---------------------------------------------------------------

def test_plain_text_strips_tags_and_decodes_entities():
    html = ('<h2 id="x">Gehalt in <em>Ober</em>hausen</h2>\n<p>3.300&nbsp;€ &amp; mehr</p>'
            '<ul><li>eins</li><li>zwei</li></ul><script>alert(1)</script><!-- Kommentar -->')
    assert search.plain_text(html) == "Gehalt in Oberhausen 3.300 € & mehr eins zwei"


def test_records_hold_body_meta_and_filters(make_site):
    site = make_site({"bochum/pflege.md": article(role="Pflegefachkraft", min=3300, max=4600,
                                                  body="Viele Pflegekräfte arbeiten hier.\n"),
                      "essen/pflege.md": article(role="Pflegefachkraft", city="Essen", region="Ruhrgebiet")},
                     config="search: false\n")
    assert site.build() == 0
    model_site, store = model(site)
    records = search.records(model_site, store.html)
    store.close()
    assert [r["url"] for r in records] == ["bochum/pflegefachkraft/", "essen/pflegefachkraft/"]
    first = records[0]
    assert first["content"] == "Viele Pflegekräfte arbeiten hier."
    assert first["language"] == "de"
    assert first["meta"] == {"title": "Pflegefachkraft in Bochum", "role": "Pflegefachkraft", "city": "Bochum",
                             "salary": "3.300–4.600\u00a0€", "period": "brutto im Monat"}
    assert first["filters"] == {"stadt": ["Bochum"], "beruf": ["Pflegefachkraft"], "region": ["Ruhrgebiet"],
                                "bundesland": ["Nordrhein-Westfalen"]}


# --- the bundle in the build -----------------------------------------------------------------

def test_sample_site_gets_an_index_with_filters(make_site):
    site = sample_site(make_site)
    assert site.build() == 0
    files = pagefind_files(site)
    entry = json.loads(files["pagefind/pagefind-entry.json"])
    assert entry["languages"]["de"]["page_count"] == 18
    assert entry["languages"]["de"]["wasm"] == "de"  # the German stemmer
    assert {"pagefind/pagefind.js", "pagefind/pagefind-worker.js", "pagefind/wasm.de.pagefind"} <= set(files)
    assert sum(rel.startswith("pagefind/fragment/") for rel in files) == 18
    # Pagefind's own UIs are not shipped: the site has its own search box
    assert not [rel for rel in files if "-ui." in rel or "highlight" in rel or "wasm.unknown" in rel]
    assert filter_values(files) == {
        "beruf": ["Elektroniker für Betriebstechnik", "Fachkraft für Lagerlogistik", "Gesundheits- und Krankenpfleger",
                  "IT-Koordinator Qualitätssicherung", "Straßenbauer"],
        "bundesland": ["Niedersachsen", "Nordrhein-Westfalen"],
        "region": ["Münsterland", "Osnabrücker Land", "Ruhrgebiet"],
        "stadt": ["Bochum", "Essen", "Münster", "Oberhausen", "Osnabrück"],
    }


def test_index_is_byte_identical_across_builds(make_site):
    one, two = sample_site(make_site, "one"), sample_site(make_site, "two")
    assert one.build() == 0
    assert two.build() == 0
    assert pagefind_files(one) == pagefind_files(two)
    assert one.build("--full") == 0
    assert pagefind_files(one) == pagefind_files(two)


def test_canonical_sorts_filter_values_and_names_files_like_pagefind():
    # many values in hash-map order: without canonical() the filter files differ between runs
    records = [{"url": f"stadt-{i}/beruf/", "content": f"Text Nummer {i}", "language": "de",
                "meta": {"title": f"Titel {i}"}, "filters": {"stadt": [f"Stadt {i:02}"], "beruf": ["Beruf"]},
                "sort": None} for i in range(40)]
    executable, _ = search.pagefind_binary(load_config(None))
    runs = [search.PagefindService(executable).index(records) for _ in range(3)]
    canonical = [search.canonical(made) for made in runs]
    assert canonical[0] == canonical[1] == canonical[2]
    assert search.canonical(canonical[0]) == canonical[0]
    stadt = filter_values({"pagefind/" + k: v for k, v in canonical[0].items()})["stadt"]
    assert stadt == sorted(stadt) and len(stadt) == 40
    # a filter with one value was already in order: Pagefind's own file name is kept (same hash scheme)
    beruf = [name for name in runs[0] if name.startswith("filter/") and b"Beruf" in unpacked(runs[0][name])]
    assert beruf and beruf[0] in canonical[0]
    # everything but the filter files, the metadata file and the entry is Pagefind's own output
    untouched = {k for k in runs[0] if not k.startswith("filter/") and not k.endswith(".pf_meta")
                 and k != "pagefind-entry.json"}
    assert all(canonical[0][k] == runs[0][k] for k in untouched)


def test_unchanged_site_does_not_run_pagefind_again(make_site, monkeypatch):
    site = sample_site(make_site)
    assert site.build() == 0
    before = {p: p.stat().st_mtime_ns for p in (site.output / "pagefind").rglob("*")}

    def fail(*args, **kwargs):
        raise AssertionError("the search index was made again")

    monkeypatch.setattr(search, "files", fail)
    assert site.build() == 0
    assert {p: p.stat().st_mtime_ns for p in (site.output / "pagefind").rglob("*")} == before


def built_then_edited(make_site, relpath: str, paragraph: str):
    """The sample site built once, then one article given another paragraph: (config, state, index before)."""
    site = sample_site(make_site)
    config = load_config(site.root / "config.yaml")
    first = build(config)
    old = pagefind_files(site)
    path = site.content / relpath
    path.write_text(path.read_text(encoding="utf-8") + f"\n{paragraph}\n", encoding="utf-8")
    return site, config, first.state, old


def test_changed_body_changes_the_index(make_site):
    site, config, state, old = built_then_edited(make_site, "bochum/strassenbauer.md", "Der Zauberwort-Absatz.")
    report = build(config, state=state)
    new = pagefind_files(site)
    assert new != old
    assert any(rel.startswith("pagefind/") for rel in report.changed)
    assert "pagefind/pagefind-entry.json" in report.changed  # names the new metadata file
    assert report.deferred == []
    changed_fragments = [rel for rel in new if rel.startswith("pagefind/fragment/") and rel not in old]
    assert len(changed_fragments) == 1 and "Zauberwort" in unpacked(new[changed_fragments[0]]).decode()


def test_search_defer_keeps_the_old_index_until_the_next_build(make_site):
    site, config, state, old = built_then_edited(make_site, "essen/elektroniker-fuer-betriebstechnik.md", "Neu.")
    quick = build(config, BuildOptions(search_defer=True), state=state)
    assert quick.deferred == ["pagefind/"]
    assert "essen/elektroniker-fuer-betriebstechnik/index.html" in quick.changed
    assert pagefind_files(site) == old
    follow = build(config, state=quick.state)
    assert follow.deferred == [] and follow.changed and all(r.startswith("pagefind/") for r in follow.changed)
    assert pagefind_files(site) != old
    assert build(config, BuildOptions(search_defer=True), state=follow.state).deferred == []


def test_search_off_builds_no_index_and_no_search_box(make_site):
    site = make_site({"bochum/a.md": article()}, config="search: false\n")
    assert site.build() == 0
    assert not (site.output / "pagefind").exists()
    assert "search.js" not in site.page("index.html") and "suche_eingabe" not in site.page("index.html")


def test_missing_pagefind_fails_with_install_hint(make_site, monkeypatch, capsys):
    site = make_site({"bochum/a.md": article()})
    monkeypatch.setitem(sys.modules, "pagefind.service", None)  # import fails as when not installed
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "Pagefind (the search indexer) is not installed" in err
    assert "pip install 'careersite[search]'" in err and "search: false" in err
    assert not site.output.exists() or not (site.output / "pagefind").exists()


def test_old_pagefind_is_refused(make_site, monkeypatch, capsys):
    site = make_site({"bochum/a.md": article()})
    monkeypatch.setattr(search, "_version", lambda *args: "pagefind 1.4.0")
    assert site.build() == 1
    assert "search needs Pagefind 1.5 or newer" in capsys.readouterr().err


# --- the search box ------------------------------------------------------------------------------

def test_search_box_is_hidden_without_javascript(make_site):
    site = make_site({"bochum/a.md": article()})
    assert site.build() == 0
    page = site.page("bochum/strassenbauer/index.html")
    assert '<form class="search-form" role="search" hidden data-search' in page
    noscript = page[page.index("<noscript>"): page.index("</noscript>")]
    assert 'href="../../berufe/"' in noscript and 'href="../../#staedte_liste"' in noscript
    assert '<script type="module" src="../../static/search.' in page
    assert "onclick" not in page and "oninput" not in page  # CSP-friendly: no inline handlers


_SEARCH = """
const [query, filters, base, done] = arguments;
import(new URL("pagefind/pagefind.js", base).href).then(async (pf) => {
  const search = await pf.search(query, {filters: filters || {}});
  const data = await Promise.all(search.results.map((r) => r.data()));
  done(data.map((d) => ({url: d.url, title: d.meta.title, excerpt: d.excerpt})));
}).catch((e) => done(String(e)));
"""


def wait_for_results(driver, count_at_least: int = 1):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 30).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".search-results li")) >= count_at_least
        or d.find_element(By.CSS_SELECTOR, ".search-status").text)
    return driver.find_elements(By.CSS_SELECTOR, ".search-results li")


@needs_browser
def test_search_box_finds_oberhausen_first_with_its_salary(make_site):
    from selenium.webdriver.common.by import By
    site = sample_site(make_site)
    assert site.build() == 0
    # hosted in a sub-folder, opened from a page two levels deep
    hosting = site.root / "hosting"
    shutil.copytree(site.output, hosting / "karriere")
    with serve_directory(hosting) as base, headless_chromium() as driver:
        driver.get(base + "karriere/bochum/strassenbauer/")
        driver.find_element(By.ID, "suche_eingabe").send_keys("Qualitätssicherung Oberhausen")
        results = wait_for_results(driver)
        first = results[0]
        link = first.find_element(By.TAG_NAME, "a")
        assert link.text == "IT-Koordinator Qualitätssicherung in Oberhausen"
        meta = first.find_element(By.CSS_SELECTOR, ".search-meta").get_attribute("textContent")
        assert meta == "3.300–4.600\u00a0€ brutto im Monat · Oberhausen"
        assert first.find_elements(By.TAG_NAME, "mark")
        status = driver.find_element(By.CSS_SELECTOR, "[role=status]").text
        assert status == f"{len(results)} Treffer"
        link.click()
        assert driver.current_url == base + "karriere/" + OBERHAUSEN_QS
        # the filters are filled from the index; a filter alone lists that city's articles
        driver.find_element(By.CSS_SELECTOR, ".search-filters summary").click()
        from selenium.webdriver.support.ui import Select, WebDriverWait
        select = driver.find_element(By.CSS_SELECTOR, "select[data-filter=stadt]")
        WebDriverWait(driver, 30).until(lambda d: len(select.find_elements(By.TAG_NAME, "option")) > 1)
        Select(select).select_by_visible_text("Bochum")
        results = wait_for_results(driver, 4)
        assert len(results) == 4 and all(r.text.split("\n")[0].endswith("in Bochum") for r in results)


@needs_browser
def test_german_stemming_and_umlauts(make_site):
    site = make_site({
        "bochum/pflege.md": article(role="Altenpfleger", body="In Bochum fehlen viele Pflegekräfte.\n"),
        "essen/bau.md": article(role="Maurer", city="Essen", body="Ein Beruf für draußen.\n"),
        "essen/kita.md": article(role="Erzieher", city="Essen", body="Die Pflegekraft der Kita.\n"),
    })
    assert site.build() == 0
    with serve_directory(site.output) as base, headless_chromium() as driver:
        driver.get(base)

        def urls(query, filters=None):
            found = driver.execute_async_script(_SEARCH, query, filters, base)
            assert isinstance(found, list), found
            return sorted(r["url"] for r in found)

        # Snowball German: "Pflegekraft" and "Pflegekräfte" share a stem, both ways
        assert urls("Pflegekraft") == ["/bochum/altenpfleger/", "/essen/erzieher/"]
        assert urls("Pflegekräfte") == ["/bochum/altenpfleger/", "/essen/erzieher/"]
        assert urls("draussen") == urls("draußen") == ["/essen/maurer/"]
        assert urls("Erzieher") == ["/essen/erzieher/"]  # the role is searchable (metadata)
        assert urls("Pflegekraft", {"stadt": "Essen"}) == ["/essen/erzieher/"]
        assert urls("Pflegekraft", {"bundesland": "Bayern"}) == []
