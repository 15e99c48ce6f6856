"""The console's pure parts (dawra/web): formatting in both languages, CSRF tokens and cookies, the catalogs, the
templates' escaping, the proxy event translation, and the bundled front-end libraries against their npm packages."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from dawra.domain.money import Money
from dawra.web import forms
from dawra.web.formatting import Formatter
from dawra.web.http import WebRequest, request_from_event
from dawra.web.i18n import all_catalogs
from dawra.web.render import environment, render, static_file
from dawra.web.security import cookie, csrf_token, parse_cookies, same, signin_token

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "dawra" / "web" / "templates"
# The front-end libraries the console serves, each byte for byte its pinned npm package's file.
VENDOR = {"vendor/htmx.min.js": ("htmx.org", "dist/htmx.min.js"),
          "vendor/chart.umd.min.js": ("chart.js", "dist/chart.umd.min.js")}


def test_money_numbers_and_times_in_english_and_arabic():
    en, ar, ar_digits = Formatter("en"), Formatter("ar"), Formatter("ar", "arab")
    sar = Money(amount=1234550, currency="SAR")
    assert en.money(sar) == "SAR\u00a012,345.50"
    assert "12,345.50" in ar.money(sar) and "ر.س" in ar.money(sar)
    assert "١٢٬٣٤٥٫٥٠" in ar_digits.money(sar)  # noqa: RUF001 - Arabic-Indic digits and separators, on purpose
    assert en.money(Money(amount=1500, currency="KWD")) == "KWD\u00a01.500"  # three decimals
    assert ar_digits.number(2026) == "٢٬٠٢٦"
    assert en.percent(0.925) == "92.5%" and en.percent(None) == "—"
    assert en.when("2026-11-23T12:05:00.000Z") == "Nov 23, 2026, 12:05:00\u202fPM UTC"
    assert re.search("[\u0660-\u0669]", ar_digits.when("2026-11-23T12:05:00.000Z"))
    assert en.duration(90) == "1.5 min" and en.duration(7200) == "2 h" and en.duration(None) == "—"
    assert ar.direction == "rtl" and en.direction == "ltr"


def test_csrf_tokens_are_bound_to_the_key_the_subject_and_the_session():
    claims = {"sub": "user-1", "iat": 1000}
    token = csrf_token(b"key", claims)
    assert same(token, csrf_token(b"key", dict(claims)))
    assert not same(token, csrf_token(b"other key", claims))
    assert not same(token, csrf_token(b"key", {**claims, "sub": "user-2"}))
    assert not same(token, csrf_token(b"key", {**claims, "iat": 1001}))  # a new sign-in: a new token
    assert not same(token, None) and not same(token, "")
    assert signin_token(b"key", "nonce") != signin_token(b"key", "other")


def test_cookies_have_the_console_flags_and_parse_back():
    line = cookie("__Host-x", "v", 60)
    assert line == "__Host-x=v; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=60"
    assert parse_cookies("a=1; b=2; a=3") == {"a": "1", "b": "2"}


def test_both_catalogs_have_the_same_words_and_every_word_the_templates_use():
    catalogs = all_catalogs()
    assert set(catalogs["en"]) == set(catalogs["ar"])
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z0-9_.]+[a-z0-9])["']""", template.read_text()))
    assert used - set(catalogs["en"]) == set()
    for prefix in ("status.", "timeline.", "shipment.", "stage.", "role."):
        assert any(key.startswith(prefix) for key in catalogs["en"])


def test_every_domain_word_shown_has_a_translation():
    from dawra.domain.access import Role
    from dawra.domain.operations import Stage
    from dawra.domain.order import OrderStatus
    from dawra.domain.shipment import ShipmentStatus
    from dawra.domain.timeline import TimelineKind

    words = all_catalogs()["ar"]
    expected = ([f"status.{s.value}" for s in OrderStatus] + [f"timeline.{k.value}" for k in TimelineKind]
                + [f"shipment.{s.value}" for s in ShipmentStatus] + [f"stage.{s.value}" for s in Stage]
                + [f"role.{r.value}" for r in Role])
    assert [key for key in expected if key not in words] == []


def test_templates_escape_everything_even_a_string_template():
    env = environment()
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    html = render("error.html", {
        "t": lambda key, **_: key, "lang": "en", "dir": "ltr", "digits": "latn", "actor": None, "csrf": "",
        "url": lambda path, **_: path, "root": "/admin", "path": "/admin/x", "static": lambda name: name,
        "nav": [], "error": "<script>alert(1)</script>", "problems": [("f", "<i>")], "notice": None,
        "title": "T", "CSRF_FIELD": "csrf", "KEY_FIELD": "key"})
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;" in html and '<html lang="en" dir="ltr">' in html


def test_a_json_data_block_cannot_close_its_script_element():
    out = environment().from_string('<script type="application/json">{{ d|tojson }}</script>').render(
        d={"label": "</script><script>alert(1)</script>"})
    assert out.count("</script>") == 1 and "\\u003c/script\\u003e" in out


def test_static_files_only_from_the_static_folder():
    assert static_file("console.css") is not None
    for name in ("../console.py", "vendor/../../console.py", ".x.js", "", "vendor/", "console.py"):
        assert static_file(name) is None, name


def test_a_rest_proxy_event_becomes_a_request():
    body = "csrf=abc&note=%3Cb%3E+hi&note=second"
    event = {"httpMethod": "POST", "path": "/admin/orders/x/note",
             "headers": {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "a=1; b=2",
                         "HX-Request": "true"},
             "multiValueQueryStringParameters": {"q": ["1", "2"]},
             "body": base64.b64encode(body.encode()).decode(), "isBase64Encoded": True,
             "requestContext": {"stage": "v1", "path": "/v1/admin/orders/x/note"}}
    request = request_from_event(event)
    assert request.method == "POST" and request.field("csrf") == "abc" and request.fields("note") == ["<b> hi",
                                                                                                      "second"]
    assert request.cookies == {"a": "1", "b": "2"} and request.arg("q") == "2" and request.is_htmx
    assert request.base == "/v1"  # links keep the deployed stage's prefix
    local = request_from_event({**event, "requestContext": {"stage": "local", "path": "/local/admin"}})
    assert local.base == ""


def test_forms_read_what_operators_type():
    request = WebRequest("GET", "/admin/orders", query={"phone": ["055 512 3456"], "reference": ["#ord_x"],
                                                        "placed_from": ["2026-11-01"], "placed_to": ["2026-11-02"],
                                                        "sku": ["mug-classic"], "status": [""]})
    query = forms.order_query(request)
    assert query.phone == "+966555123456" and query.reference == "ord_x" and query.sku == "MUG-CLASSIC"
    assert query.placed_from == "2026-11-01T00:00:00.000Z" and query.placed_to == "2026-11-03T00:00:00.000Z"
    assert query.status is None
    assert forms.minor_units("12.5", "SAR") == 1250 and forms.minor_units("\u0661\u0662\u066b\u0665", "SAR") == 1250
    assert forms.minor_units("1.250", "KWD") == 1250
    for bad in ("0", "-1", "1.234", "abc"):
        with pytest.raises(forms.FormInvalid):
            forms.minor_units(bad, "SAR")


def test_the_bundled_libraries_are_the_pinned_npm_files():
    package = json.loads((ROOT / "package.json").read_text())
    for name, (npm, path) in VENDOR.items():
        found = static_file(name)
        assert found is not None, name
        pinned = package["dependencies"][npm]
        assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"{npm} must be pinned exactly"
        installed = ROOT / "node_modules" / npm
        if not installed.exists():
            continue  # npm ci has not run (the unit tier needs no node_modules); make test runs it first
        assert json.loads((installed / "package.json").read_text())["version"] == pinned
        assert (installed / path).read_bytes() == found[0], f"{name} differs from {npm}@{pinned}/{path}"
