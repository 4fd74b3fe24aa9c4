"""The list-building code generator (careersite/codegen.py): the same text as Jinja's own for
every tag, mixing with templates compiled by Jinja's generator, and its fallback."""

from __future__ import annotations

import traceback

import jinja2
import jinja2.compiler
import pytest

from careersite import codegen

# Templates exercising every tag that writes output or calls other templates' functions.
TEMPLATES = {
    "base.html": "<head>{% block head %}<title>{{ title }}</title>{% endblock %}</head>\n"
                 "<body>{% block body %}base body{% endblock %}|{{ self.head() }}|"
                 "{% block footer scoped %}{% for x in [1, 2] %}{% block item scoped %}{{ x }}{% endblock %}"
                 "{% endfor %}{% endblock %}</body>",
    "child.html": "ignored\n{% extends 'base.html' %}ignored too{% block head %}{{ super() }}<meta>{% endblock %}"
                  "{% block body %}{% include 'part.html' %}|{% include 'part.html' without context %}"
                  "|{% include 'missing.html' ignore missing %}|{% include ['nope.html', 'part.html'] %}"
                  "{% endblock %}{% block item %}<{{ super() }}>{% endblock %}",
    "grandchild.html": "{% extends 'child.html' %}{% block head %}[{{ super() }}]{% endblock %}",
    "part.html": "part {{ title | default('none') }}",
    "dynamic.html": "before {% if parent %}{% extends parent %}{% endif %}own {{ title }}"
                    "{% block body %}dynamic body{% endblock %}",
    "macros.html": "{% macro row(a, b='x') %}<{{ a }}|{{ b }}|{{ caller() if caller else '' }}>{% endmacro %}"
                   "{% from 'lib.html' import twice %}{% import 'lib.html' as lib %}"
                   "{{ row(1) }}{% call row(2, b=3) %}called {{ title }}{% endcall %}"
                   "{{ twice('y') }}{{ lib.twice('z') }}"
                   "{% set captured %}set {{ title }}{% endset %}{{ captured }}{{ captured | length }}",
    "lib.html": "{% macro twice(v) %}{{ v }}{{ v }}{% endmacro %}not shown",
    "loops.html": "{% for i in items if i is odd %}{{ loop.index }}:{{ i }}{% if loop.last %}.{% endif %}"
                  "{% else %}empty{% endfor %}|{% for n in tree recursive %}({{ n.name }}"
                  "{% if n.children %}{{ loop(n.children) }}{% endif %}){% endfor %}"
                  "|{% for i in items %}{% if i > 3 %}{% break %}{% endif %}{{ i }}{% endfor %}"
                  "|{% with a=1, b=title %}{{ a }}{{ b }}{% include 'part.html' %}{% endwith %}"
                  "|{% filter upper %}up {{ title }}{% endfilter %}|{{ '<b>' }}{{ '<i>' | safe }}"
                  "|{% autoescape false %}{{ '<u>' }}{% include 'part.html' %}{% endautoescape %}{{ '<u>' }}",
    "required.html": "{% block need required %}{% endblock %}",
    "fills.html": "{% extends 'required.html' %}{% block need %}filled{% endblock %}",
    "empty.html": "",
    "only_blocks.html": "{% block a %}A{% endblock %}{% block b %}{{ self.a() }}B{% endblock %}",
    "includes_in_macro.html": "{% macro m() %}[{% include 'part.html' %}|{% block inner %}in{% endblock %}]"
                              "{% endmacro %}{{ m() }}",
}

# Jinja2 versions whose CodeGenerator the list generator was checked against (codegen._JINJA_SOURCE);
# with another, careersite uses Jinja's own generator, and the tests of the list code skip.
CHECKED_JINJA = ("3.1.6",)
list_code = pytest.mark.skipif(not codegen.jinja_verified(), reason=(
    f"Jinja2 {jinja2.__version__}: its code generator differs from the one careersite/codegen.py was "
    "written against, so Jinja's own is used; re-read the methods in codegen._JINJA_METHODS, then "
    "update codegen._JINJA_SOURCE and CHECKED_JINJA"))

CONTEXT = {"title": "T & <Titel>", "items": [1, 2, 3, 4, 5],
           "tree": [{"name": "a", "children": [{"name": "b", "children": []}]}, {"name": "c", "children": []}]}


class _Stock(jinja2.Environment):
    pass


class _Lists(jinja2.Environment):
    def _generate(self, source, name, filename, defer_init=False):
        return codegen.generate(self, source, name, filename, defer_init)


def _env(cls, **kw) -> jinja2.Environment:
    return cls(loader=jinja2.DictLoader(dict(TEMPLATES)), autoescape=True, extensions=["jinja2.ext.loopcontrols"], **kw)


@pytest.mark.parametrize("name", sorted(n for n in TEMPLATES if n != "required.html"))
@pytest.mark.parametrize("extra", [{}, {"parent": "base.html"}, {"parent": None}])
def test_every_template_renders_the_same_text_as_with_jinjas_generator(name, extra):
    context = {**CONTEXT, **extra}
    stock = _env(_Stock).get_template(name)
    lists = _env(_Lists).get_template(name)
    assert lists.render(context) == stock.render(context)
    assert "".join(lists.generate(context)) == stock.render(context)  # streaming, as Template.stream does


@list_code
@pytest.mark.parametrize("template, expected", [
    ("{% macro m() %}[{% include 'part.html' without context %}]{% endmacro %}{{ m() }}", "[part none]"),
    ("{% macro m() %}<{{ caller() }}>{% endmacro %}{% call m() %}{% include 'part.html' without context %}"
     "{% endcall %}", "<part none>"),
    ("a{% filter upper %}x{% include 'part.html' without context %}y{% endfilter %}b", "aXPART NONEYb"),
    ("a{% set v %}x{% include 'part.html' without context %}{% endset %}b[{{ v }}]", "ab[xpart none]"),
    ("{% for n in [{'c': [{'c': []}]}] recursive %}({% include 'part.html' without context %}{{ loop(n.c) }})"
     "{% endfor %}", "(part none(part none))"),
])
def test_an_include_without_context_stays_where_it_stands(template, expected):
    """(Jinja 3.1.6's own code writes a ``yield from`` there, which turns a macro into a
    generator ("<generator object …>" on the page) or puts the text past the filter or
    variable it belongs to: pallets/jinja#2108.)"""
    env = _env(_Lists)
    env.loader.mapping["c.html"] = template
    assert env.get_template("c.html").render(CONTEXT) == expected


def test_the_jinja_is_the_one_the_generator_was_written_for():
    """The generator copies and overrides parts of Jinja's: when an upgrade changes them, it
    turns itself off (Jinja's generator is used) until they are read again and the hash in
    codegen.py is updated."""
    if jinja2.__version__ not in CHECKED_JINJA:
        pytest.skip(f"Jinja2 {jinja2.__version__} is not one the generator was checked against")
    assert codegen.jinja_verified()


def test_another_jinja_or_a_failing_generator_gets_jinjas_generator(monkeypatch):
    stock = _env(_Stock)
    expected = stock._generate(stock._parse(TEMPLATES["child.html"], "child.html", "child.html"), "child.html",
                               "child.html")
    monkeypatch.setattr(codegen, "jinja_verified", lambda: False)
    env = _env(_Lists)
    assert env._generate(env._parse(TEMPLATES["child.html"], "child.html", "child.html"), "child.html",
                         "child.html") == expected
    monkeypatch.undo()

    def broken(self, node, frame):
        raise AttributeError("a changed Frame")
    monkeypatch.setattr(codegen.ListCodeGenerator, "visit_Block", broken)
    env = _env(_Lists)
    assert env._generate(env._parse(TEMPLATES["child.html"], "child.html", "child.html"), "child.html",
                         "child.html") == expected
    assert env.get_template("grandchild.html").render(CONTEXT) == stock.get_template("grandchild.html").render(CONTEXT)


def test_a_template_error_is_reported_as_jinja_reports_it():
    env = _env(_Lists)
    env.loader.mapping["twice.html"] = "{% block a %}{% endblock %}{% block a %}{% endblock %}"
    with pytest.raises(jinja2.TemplateAssertionError, match="block 'a' defined twice"):
        env.get_template("twice.html")


@list_code
def test_the_functions_return_lists_and_the_checker_knows_it():
    env = _env(_Lists)
    for name in TEMPLATES:
        source = env._generate(env._parse(TEMPLATES[name], name, name), name, name)
        assert codegen.returns_lists(source), name
        stock = _env(_Stock)
        assert not codegen.returns_lists(stock._generate(stock._parse(TEMPLATES[name], name, name), name, name))
    template = env.get_template("child.html")
    assert isinstance(template.root_render_func(template.new_context(CONTEXT)), list)


def test_a_required_block_left_empty_still_fails():
    with pytest.raises(jinja2.TemplateRuntimeError, match="Required block 'need' not found"):
        _env(_Lists).get_template("required.html").render(CONTEXT)
    assert _env(_Lists).get_template("fills.html").render() == "filled"


class _Mixed(jinja2.Environment):
    """Compiles the templates named in ``lists`` with ListCodeGenerator, the others with Jinja's."""

    lists: frozenset[str] = frozenset()

    def _generate(self, source, name, filename, defer_init=False):
        if name in self.lists:
            return codegen.generate(self, source, name, filename, defer_init)
        return jinja2.compiler.generate(source, self, name, filename, defer_init=defer_init, optimized=self.optimized)


SHARED = frozenset({"base.html", "part.html", "lib.html", "child.html"})  # the extended, included and imported


@pytest.mark.parametrize("name", ["grandchild.html", "child.html", "macros.html", "loops.html",
                                  "includes_in_macro.html"])
@pytest.mark.parametrize("lists", [SHARED, frozenset(TEMPLATES) - SHARED], ids=["shared-lists", "shared-stock"])
def test_templates_of_both_generators_extend_include_and_import_each_other(name, lists):
    """Each kind runs the other's functions: lists where Jinja's code expects generators (and
    closes them), generators where ListCodeGenerator's extends its list."""
    env = _env(_Mixed)
    env.lists = lists
    assert env.get_template(name).render(CONTEXT) == _env(_Stock).get_template(name).render(CONTEXT)


def test_errors_point_at_the_template_line():
    env = _env(_Lists)
    env.loader.mapping["broken.html"] = "line one\n{{ title }}\n{{ items.nope.deeper }}\n"
    env.undefined = jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError) as caught:
        env.get_template("broken.html").render(CONTEXT)
    lines = [f.lineno for f in traceback.extract_tb(caught.value.__traceback__) if f.filename == "<template>"]
    assert lines and lines[-1] == 3


def test_unexpected_code_falls_back_to_jinjas_generator(monkeypatch):
    """Should Jinja change how it writes a function (here: the parent's call is no longer the
    line the generator replaces), the template is compiled by Jinja's own generator."""
    monkeypatch.setattr(codegen, "_RUN_PARENT", "something Jinja never writes")
    env = _env(_Lists)
    source = env._generate(env._parse(TEMPLATES["child.html"], "child.html", "child.html"), "child.html", "child.html")
    assert "yield from parent_template.root_render_func(context)" in source  # the stock generator's
    expected = _env(_Stock).get_template("grandchild.html").render(CONTEXT)
    assert env.get_template("grandchild.html").render(CONTEXT) == expected


def test_returns_lists_rejects_a_function_that_yields_or_never_returns():
    assert codegen.returns_lists("def root(context):\n    t = []\n    return t\n"
                                 "def block_a(context):\n    def f(x):\n        yield x\n    return []\n")
    assert not codegen.returns_lists("def root(context):\n    if 0: yield None\n    return []\n")
    assert not codegen.returns_lists("def root(context):\n    t = []\n")
    assert not codegen.returns_lists("def root(context):\n    return []\n"
                                     "def block_b(context):\n    yield 1\n    return []\n")
    assert not codegen.returns_lists("def block_only(context):\n    return []\n")  # no root
    assert not codegen.returns_lists("def root(:\n")


def test_an_async_environment_keeps_jinjas_code():
    env = _env(_Lists, enable_async=True)
    source = env._generate(env._parse(TEMPLATES["child.html"], "child.html", "child.html"), "child.html", "child.html")
    assert "async def root" in source and not codegen.returns_lists(source)
