"""Render the GOV.UK-styled layout and every macro outside a request (no DB)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "app" / "templates"
STATIC = ROOT / "app" / "static"
XSS = "<script>alert(1)</script>"

PAGE = """
{% extends "layout.html" %}
{% import "macros/forms.html" as forms %}
{% import "macros/components.html" as c %}
{% block title %}Respond to {{ name }}{% endblock %}
{% block beforeContent %}
  {{ c.back_link("/c/demo") }}
  {{ c.breadcrumbs([("Consultations", "/"), {"text": name}]) }}
{% endblock %}
{% block content %}
  {{ c.notification_banner("Important", bad) }}
  {% call c.notification_banner("Saved", success=True, id="saved-title") %}
    <p class="govuk-body">Answer to {{ bad }} saved.</p>
  {% endcall %}
  {{ c.inset(bad) }}
  {{ c.details("Why?", bad) }}
  <form method="post" action="/c/demo" novalidate>
    {{ forms.csrf(token) }}
    {{ forms.textarea("q1", "q1", "Your view " ~ bad, bad, hint="Hint " ~ bad,
                      error=forms.error_for(errors, "q1"), maxlength=2000) }}
    {{ forms.radios("stance", "stance", "Do you agree?", ["Agree", "Disagree", bad],
                    "Disagree", hint="Pick one", error=forms.error_for(errors, "stance"),
                    required=True) }}
    {{ forms.checkboxes("topics", "topics", "Topics",
                        ["Housing", {"value": "roads", "text": "Roads", "hint": "Cars too"}],
                        ["roads"], error=forms.error_for(errors, "topics")) }}
    {{ forms.input("email", "email", "Email", bad, type="email", hint="Optional",
                   error=forms.error_for(errors, "email"), autocomplete="email") }}
    {{ forms.select("region", "region", "Region",
                    [{"value": "", "text": "Choose"}, "North", "South"], "South",
                    error=forms.error_for(errors, "region")) }}
    {{ forms.button("Send " ~ bad) }}
  </form>
  {{ c.summary_list([("Name", bad), {"key": "Stance", "value": c.tag("Agree", "green"),
                     "href": "/c/demo#stance"}, ("Topics", ["Housing", bad])]) }}
  {% call c.panel("Response sent") %}Your code <strong>{{ bad }}</strong>{% endcall %}
  {{ c.panel("Done", bad) }}
  {{ c.table("Themes " ~ bad, ["Theme", {"text": "Count", "numeric": True}],
             [[{"text": bad, "href": "/t/1"}, 12], [c.tag(bad, "nope"), None]],
             first_cell_is_header=True) }}
  {{ c.tag(bad, "red") }}
  {{ c.pagination("/p/1", "/p/3", next_label=bad) }}
  {{ c.pagination(None, None) }}
{% endblock %}
"""

ERRORS = [
    {"field_id": "q1", "message": "Enter your view " + XSS},
    {"field_id": "stance", "message": "Select whether you agree"},
    {"field_id": "topics", "message": "Select a topic"},
    {"field_id": "email", "message": "Enter a valid email"},
    {"field_id": "region", "message": "Select a region"},
]

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
    "path",
}


class _Checker(HTMLParser):
    """Balanced tags and unique ids: catches broken macro markup."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.ids += [v for k, v in attrs if k == "id" and v is not None]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.ids += [v for k, v in attrs if k == "id" and v is not None]

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"unexpected </{tag}>, open: {self.stack}"
        self.stack.pop()


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined
    )


def render(env: Environment, **ctx) -> str:
    base = {
        "name": "Demo",
        "bad": XSS,
        "token": "tok-123",
        "errors": [],
        "current_user": None,
        "csrf_token": "tok-123",
        "csp_nonce": None,
    }
    html = env.from_string(PAGE).render(**{**base, **ctx})
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.stack == [], checker.stack
    dupes = {i for i in checker.ids if checker.ids.count(i) > 1}
    assert not dupes, dupes
    return html


def test_page_with_errors(env):
    html = render(env, errors=ERRORS)
    assert "<title>Error: Respond to Demo \u2013 Consult</title>" in html
    assert html.count('class="govuk-error-summary"') == 1
    assert 'role="alert"' in html and 'tabindex="-1"' in html
    for e in ERRORS:
        field = e["field_id"]
        assert f'<a href="#{field}">' in html
        assert f'id="{field}"' in html  # the link target exists
        assert f'id="{field}-error"' in html
    assert html.count("govuk-form-group--error") == len(ERRORS)
    assert '<span class="govuk-visually-hidden">Error:</span> Select a topic' in html
    assert 'aria-describedby="q1-hint q1-error q1-info"' in html
    assert 'aria-describedby="stance-hint stance-error"' in html
    assert 'aria-describedby="email-hint email-error"' in html
    assert "govuk-textarea--error" in html and "govuk-input--error" in html
    assert "govuk-select--error" in html


def test_page_without_errors(env):
    html = render(env)
    assert "<title>Respond to Demo \u2013 Consult</title>" in html
    assert "govuk-error-summary" not in html
    assert "govuk-form-group--error" not in html
    assert "govuk-error-message" not in html
    assert 'aria-describedby="stance-hint"' in html


def test_choices_ids_and_state(env):
    html = render(env)
    assert re.search(r'id="stance" name="stance" type="radio" value="Agree" required>', html)
    assert re.search(r'id="stance-2" name="stance" type="radio" value="Disagree" checked', html)
    assert 'id="stance-3"' in html
    assert re.search(r'id="topics" name="topics" type="checkbox" value="Housing">', html)
    assert re.search(r'id="topics-2" name="topics" type="checkbox" value="roads" checked', html)
    assert 'id="topics-2-item-hint"' in html
    assert '<option value="South" selected>South</option>' in html
    assert '<input type="hidden" name="csrf_token" value="tok-123">' in html
    assert 'data-maxlength="2000"' in html


def test_user_text_is_escaped(env):
    html = render(env, errors=ERRORS)
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the only scripts are our own module init
    assert html.count("<script") == 1
    assert '<script type="module">' in html
    # an unknown tag colour is not put into the class attribute
    assert "govuk-tag--nope" not in html and "govuk-tag--red" in html
    # Markup from another macro is kept, not double-escaped
    assert '<strong class="govuk-tag govuk-tag--green">Agree</strong>' in html


def test_layout_assets_and_nav(env):
    html = render(env)
    assert '<html lang="en" class="govuk-template">' in html
    assert 'href="/static/govuk-frontend/govuk-frontend.min.css"' in html
    assert 'href="/static/consult.css"' in html
    assert 'from "/static/govuk-frontend/govuk-frontend.min.js"' in html
    assert 'href="#main-content"' in html and 'id="main-content"' in html
    assert 'class="govuk-main-wrapper"' in html
    assert "Beta" in html and "Consult — open source" in html
    assert 'href="/login"' in html and "Sign out" not in html

    user = {"name": "Ana " + XSS, "email": "a@example.org", "role": "analyst"}
    html = render(env, current_user=user, csp_nonce="n0nce")
    assert "Sign out" in html and 'action="/logout"' in html
    assert 'href="/analyse/"' in html and 'href="/audit/"' in html  # challenges, samples
    assert '<script type="module" nonce="n0nce">' in html


def test_static_files_present_and_small():
    gf = STATIC / "govuk-frontend"
    for name in ("govuk-frontend.min.css", "govuk-frontend.min.js", "LICENSE", "VERSION.md"):
        assert (gf / name).is_file(), name
    total = sum(p.stat().st_size for p in STATIC.rglob("*") if p.is_file())
    assert total < 1_000_000, total


def test_no_crown_or_gds_transport():
    """GOV.UK crown, crest, icons and the GDS Transport font are restricted to GOV.UK."""
    banned = [
        "govuk-crest",
        "govuk-icon",
        "govuk-opengraph",
        "assets/images",
        "assets/fonts",
        "assets/rebrand",
        ".woff",
        "gds transport",
    ]
    scanned = 0
    for folder in (TEMPLATES, STATIC):
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            assert path.suffix not in {".woff", ".woff2", ".ttf", ".otf", ".eot", ".png", ".ico"}, (
                path
            )
            if path.name in {"VERSION.md", "LICENSE"}:  # they document the removal
                continue
            text = path.read_text(encoding="utf-8").lower()
            scanned += 1
            for word in banned:
                assert word not in text, (path, word)
            if folder == TEMPLATES:
                assert "crown" not in text and "govuk-logo" not in text, path
    assert scanned >= 5


def test_minimal_context_and_user_variants(env):
    """Pages render without errors/current_user/csrf_token/csp_nonce in the context."""
    html = env.from_string(
        '{% extends "layout.html" %}{% block content %}<h1>Hi</h1>{% endblock %}'
    ).render()
    assert "<title>Consult</title>" in html and "<h1>Hi</h1>" in html
    assert 'href="/login"' in html

    class Role:
        value = "reviewer"

    class User:
        name = ""
        email = "r@example.org"
        role = Role()

    for user, shown in ((User(), "r@example.org"), ({"email": "x@example.org"}, "x@example.org")):
        html = env.get_template("layout.html").render(current_user=user)
        assert shown in html and "Sign out" in html
    assert 'href="/audit/"' in env.get_template("layout.html").render(current_user=User())
