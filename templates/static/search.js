// Site search on Pagefind's JS API (progressive enhancement: the form stays hidden without JS).
// The index lives in pagefind/ at the site root; this file is in static/, so the path below
// holds from every page depth. Words come from the form's data-* attributes (config.words).
const PAGE = 10;
const form = document.querySelector("form[data-search]");
if (form) start(form);

function start(form) {
  const input = form.querySelector("input[type=search]");
  const status = form.querySelector("[role=status]");
  const list = form.querySelector(".search-results");
  const more = form.querySelector(".search-more");
  const selects = [...form.querySelectorAll("select[data-filter]")];
  const words = form.dataset;
  let pagefind = null;
  let results = [];
  let shown = 0;
  let latest = 0;
  let timer = 0;
  form.hidden = false;

  function load() {
    pagefind ??= import(new URL("../pagefind/pagefind.js", import.meta.url).href).then(async (pf) => {
      await pf.options({ excerptLength: 24 });
      await pf.init();
      fillFilters(await pf.filters());
      return pf;
    });
    return pagefind;
  }

  function fillFilters(filters) {
    for (const select of selects) {
      const values = Object.keys(filters[select.dataset.filter] || {}).sort((a, b) => a.localeCompare(b, "de"));
      select.closest("label").hidden = values.length === 0;
      select.append(...values.map((value) => new Option(value, value)));
    }
  }

  async function run() {
    const id = ++latest;
    const query = input.value.trim();
    const filters = {};
    for (const select of selects) if (select.value) filters[select.dataset.filter] = select.value;
    if (!query && Object.keys(filters).length === 0) {
      results = [];
      list.replaceChildren();
      more.hidden = true;
      status.textContent = "";
      return;
    }
    try {
      const pf = await load();
      const search = await pf.search(query || null, { filters });
      if (id !== latest) return; // a newer search started meanwhile
      results = search.results;
      shown = 0;
      list.replaceChildren();
      await showMore(id);
      status.textContent = results.length ? words.count.replace("{count}", results.length) : words.none;
    } catch (error) {
      if (id === latest) status.textContent = words.error;
      console.error(error);
    }
  }

  async function showMore(id) {
    const next = await Promise.all(results.slice(shown, shown + PAGE).map((r) => r.data()));
    if (id !== latest) return;
    list.append(...next.map(item));
    shown += next.length;
    more.hidden = shown >= results.length;
  }

  function item(data) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = data.url;
    link.textContent = data.meta.title;
    const meta = document.createElement("p");
    meta.className = "search-meta";
    const salary = document.createElement("strong");
    salary.textContent = data.meta.salary;
    meta.append(salary, ` ${data.meta.period} · ${data.meta.city}`);
    li.append(link, meta, excerpt(data.excerpt));
    return li;
  }

  // Pagefind marks the matched words with <mark>; copy only text and <mark> into the page.
  function excerpt(html) {
    const p = document.createElement("p");
    p.className = "search-excerpt";
    const parsed = new DOMParser().parseFromString(html, "text/html").body;
    for (const node of parsed.childNodes) {
      if (node.nodeName === "MARK") {
        const mark = document.createElement("mark");
        mark.textContent = node.textContent;
        p.append(mark);
      } else {
        p.append(node.textContent);
      }
    }
    return p;
  }

  input.addEventListener("focus", load, { once: true });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, 200);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && input.value) {
      input.value = "";
      run();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    run();
  });
  form.querySelector("details").addEventListener("toggle", load, { once: true });
  for (const select of selects) select.addEventListener("change", run);
  more.addEventListener("click", async () => {
    const first = shown;
    await showMore(latest);
    list.children[first]?.querySelector("a")?.focus(); // keyboard users continue at the new results
  });
}
