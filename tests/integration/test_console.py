"""The operators' console as HTML over the local gateway: signing in, sessions and CSRF, the security headers, the
escaping of what customers typed, buttons by role and by status, refusals shown on the page, htmx partials and the
static files it serves. (tests/e2e drives the same pages in Chromium.)"""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field

import pytest

from dawra.local.actors import AdminApi, Storefront
from dawra.local.scenario import AGENT_CUSTOMER_PHONE, seed_backoffice, sign_in
from dawra.web.security import CONTENT_SECURITY_POLICY, PREFS_COOKIE, SESSION_COOKIE, SIGNIN_COOKIE

XSS_NAME = "<script>alert(1)</script>"


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    html: str

    def forms(self, testid: str) -> list[str]:
        return re.findall(rf'<form[^>]*data-testid="{re.escape(testid)}".*?</form>', self.html, re.S)

    def hidden(self, name: str, within: str | None = None) -> str:
        found = re.search(rf'name="{name}" value="([^"]*)"', within or self.html)
        assert found, f"no {name} field"
        return found.group(1)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Browser:
    """A browser's view of the console: cookies kept by name (Secure cookies included: this is the local
    gateway on 127.0.0.1, where Chromium sends them too), redirects not followed, so each answer can be checked."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Page:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            response = urllib.request.build_opener(_NoRedirects).open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        set_cookies = response.headers.get_all("Set-Cookie") or []
        for line in set_cookies:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in line:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return Page(response.status, {k.lower(): v for k, v in response.headers.items()}, set_cookies,
                    response.read().decode())

    def get(self, path: str, **headers: str) -> Page:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, form: dict[str, str]) -> Page:
        return self.request("POST", path, form)

    def sign_in(self, username: str, password: str) -> Page:
        page = self.get("/admin/signin")
        return self.post("/admin/signin", {"csrf": page.hidden("csrf"), "username": username, "password": password,
                                           "next": ""})

    def act(self, path: str, form_page: Page, **fields: str) -> Page:
        """Submit a form as the page rendered it: its CSRF token and a fresh key."""
        return self.post(path, {"csrf": form_page.hidden("csrf"), "key": f"k-{uuid.uuid4()}", **fields})


@pytest.fixture(scope="module")
def world(local_stack):
    operators, scenario = seed_backoffice(local_stack)
    return {"operators": operators, "token": lambda username: sign_in(local_stack, operators[username]),
            "scenario": scenario, "store": Storefront(local_stack.gateway_url)}


def signed_in(local_stack, world, username: str) -> Browser:
    browser = Browser(local_stack.gateway_url)
    page = browser.sign_in(username, world["operators"][username].password)
    assert page.status == 303, page.html[:500]
    return browser


def test_pages_carry_the_security_headers_and_the_cookies_their_flags(local_stack, world):
    browser = Browser(local_stack.gateway_url)
    page = browser.get("/admin/signin")
    assert page.status == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.html)  # no inline script

    signed = browser.post("/admin/signin", {"csrf": page.hidden("csrf"), "username": "agent",
                                            "password": world["operators"]["agent"].password, "next": ""})
    assert signed.status == 303 and signed.headers["location"] == "/admin"
    session = next(line for line in signed.set_cookies if line.startswith(f"{SESSION_COOKIE}="))
    flags = {part.strip().split("=")[0] for part in session.split(";")[1:]}
    assert {"HttpOnly", "Secure", "SameSite", "Path", "Max-Age"} <= flags and "Domain" not in flags
    assert "SameSite=Strict" in session and "Path=/;" in session and SESSION_COOKIE.startswith("__Host-")
    home = browser.get("/admin")
    assert home.status == 303 and home.headers["location"] == "/admin/orders"
    orders = browser.get("/admin/orders")
    assert orders.status == 200 and orders.headers["cache-control"] == "no-store"


def test_signing_in_is_refused_with_a_wrong_password_or_without_the_forms_token(local_stack, world):
    browser = Browser(local_stack.gateway_url)
    page = browser.get("/admin/signin")
    wrong = browser.post("/admin/signin", {"csrf": page.hidden("csrf"), "username": "agent", "password": "nope-Nope1!"})
    assert wrong.status == 401 and SESSION_COOKIE not in browser.cookies
    assert 'data-testid="problem"' in wrong.html

    forged = Browser(local_stack.gateway_url)  # no sign-in nonce cookie: the token cannot be checked
    refused = forged.post("/admin/signin", {"csrf": page.hidden("csrf"), "username": "agent",
                                            "password": world["operators"]["agent"].password})
    assert refused.status == 403 and SESSION_COOKIE not in forged.cookies

    other = Browser(local_stack.gateway_url)
    other.get("/admin/signin")
    assert SIGNIN_COOKIE in other.cookies
    refused = other.post("/admin/signin", {"csrf": "forged", "username": "agent",
                                           "password": world["operators"]["agent"].password})
    assert refused.status == 403 and SESSION_COOKIE not in other.cookies


def test_without_a_valid_session_every_page_leads_to_sign_in(local_stack, world):
    anonymous = Browser(local_stack.gateway_url)
    page = anonymous.get("/admin/orders")
    assert page.status == 303 and page.headers["location"] == "/admin/signin?next=%2Fadmin%2Forders"
    forged = Browser(local_stack.gateway_url, {SESSION_COOKIE: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."})
    page = forged.get(f"/admin/orders/{world['scenario'].on_hold}")
    assert page.status == 303 and page.headers["location"].startswith("/admin/signin")
    assert any(line.startswith(f"{SESSION_COOKIE}=;") and "Max-Age=0" in line for line in page.set_cookies)
    posted = anonymous.post(f"/admin/orders/{world['scenario'].on_hold}/note", {"note": "x", "key": "k" * 10})
    assert posted.status == 303 and posted.headers["location"] == "/admin/signin"
    htmx = anonymous.get("/admin/orders", **{"HX-Request": "true", "HX-Target": "results"})
    assert htmx.status == 200 and htmx.headers["hx-redirect"].startswith("/admin/signin")


def test_a_post_without_the_sessions_csrf_token_changes_nothing(local_stack, world):
    agent = signed_in(local_stack, world, "agent")
    order_id = world["scenario"].on_hold
    before = agent.get(f"/admin/orders/{order_id}")
    for token in ("", "forged", before.hidden("csrf") + "x"):
        refused = agent.post(f"/admin/orders/{order_id}/note", {"csrf": token, "key": f"k-{uuid.uuid4()}",
                                                                "note": "should never be written"})
        assert refused.status == 403, refused.html[:300]
    # Another operator's token is worthless here: it is bound to the session's identity.
    manager = signed_in(local_stack, world, "manager")
    theirs = manager.get(f"/admin/orders/{order_id}").hidden("csrf")
    assert agent.post(f"/admin/orders/{order_id}/note", {"csrf": theirs, "key": "k-12345678",
                                                         "note": "should never be written"}).status == 403
    after = agent.get(f"/admin/orders/{order_id}")
    assert "should never be written" not in after.html


def test_what_customers_typed_is_escaped_everywhere(local_stack, world):
    store = world["store"]
    body = {"customer_id": "cust-xss", "contact": {"email": "xss@example.com", "phone": "+966500000777"},
            "shipping_address": {"name": XSS_NAME, "line1": '"><img src=x onerror=alert(2)>', "city": "Riyadh",
                                 "country": "SA"},
            "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_token": "tok_sandbox_approve"}
    placed = store.place_order(body, f"xss-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    store.wait_for(order_id, {"SHIPPED"})
    agent = signed_in(local_stack, world, "agent")
    for page in (agent.get("/admin/orders?phone=%2B966500000777"), agent.get(f"/admin/orders/{order_id}")):
        assert page.status == 200
        assert XSS_NAME not in page.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html
        assert "<img src=x" not in page.html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page.html  # the address, on the order's page
    note = "<b>bold</b> & <script>alert(3)</script>"
    detail = agent.get(f"/admin/orders/{order_id}")
    assert agent.act(f"/admin/orders/{order_id}/note", detail, note=note).status == 303
    shown = agent.get(f"/admin/orders/{order_id}").html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(3)&lt;/script&gt;" in shown and "<b>bold" not in shown
    lina = agent.get(f"/admin/orders/{world['scenario'].cancelled[0]}").html
    assert "Lina &lt;b&gt;Haddad&lt;/b&gt;" in lina


def test_buttons_follow_the_role_and_the_status(local_stack, world):
    scenario = world["scenario"]
    completed, held = scenario.completed[0], scenario.on_hold
    agent, warehouse = signed_in(local_stack, world, "agent"), signed_in(local_stack, world, "warehouse")
    manager = signed_in(local_stack, world, "manager")

    agent_completed = agent.get(f"/admin/orders/{completed}")
    assert agent_completed.forms("form-refund") and agent_completed.forms("form-note")
    assert not agent_completed.forms("form-cancel") and not agent_completed.forms("form-hold")  # status: completed
    assert not agent_completed.forms("form-change-address") and not agent_completed.forms("cancel-line-MUG-CLASSIC")

    warehouse_completed = warehouse.get(f"/admin/orders/{completed}")
    assert warehouse_completed.status == 200 and warehouse_completed.forms("form-note")
    assert not warehouse_completed.forms("form-refund") and not warehouse_completed.forms("form-resend")

    agent_held = agent.get(f"/admin/orders/{held}")
    assert agent_held.forms("form-release") and agent_held.forms("form-cancel")
    assert agent_held.forms("cancel-line-MUG-CLASSIC") and agent_held.forms("cancel-line-DATES-1KG")
    assert agent_held.forms("form-change-address") and not agent_held.forms("form-refund")  # nothing captured
    warehouse_held = warehouse.get(f"/admin/orders/{held}")
    assert not warehouse_held.forms("form-release") and not warehouse_held.forms("cancel-line-MUG-CLASSIC")

    nav = {name: f'href="/admin/{name}"' for name in ("orders", "place-order", "stock", "operations", "audit")}
    assert all(nav[n] in manager.get("/admin/orders").html for n in nav)
    agent_nav = agent_held.html
    assert nav["place-order"] in agent_nav and nav["operations"] not in agent_nav
    warehouse_nav = warehouse_held.html
    assert nav["place-order"] not in warehouse_nav and nav["stock"] in warehouse_nav
    assert warehouse.get("/admin/operations").status == 403
    assert 'href="/_local/outbox"' in manager.get("/admin/operations").html  # the local stack's outbox, linked
    assert warehouse.get("/admin/place-order").status == 403
    stock = warehouse.get("/admin/stock")
    assert stock.forms("form-adjust") and not agent.get("/admin/stock").forms("form-adjust")


def test_a_forbidden_post_is_403_and_an_illegal_one_409_with_the_reason(local_stack, world):
    completed = world["scenario"].completed[1]
    warehouse = signed_in(local_stack, world, "warehouse")
    page = warehouse.get(f"/admin/orders/{completed}")
    refused = warehouse.act(f"/admin/orders/{completed}/refund", page, amount="1.00", reason="goodwill")
    assert refused.status == 403
    assert "refund is not allowed for warehouse" in refused.html and 'data-testid="problem"' in refused.html
    api = AdminApi(local_stack.gateway_url, world["token"]("warehouse"))
    answer = api.post(f"/orders/{completed}/refunds", {"amount": 100, "reason": "goodwill"}, key=f"k-{uuid.uuid4()}")
    assert answer.status == 403 and answer.body["code"] == "forbidden"

    agent = signed_in(local_stack, world, "agent")
    page = agent.get(f"/admin/orders/{completed}")
    illegal = agent.act(f"/admin/orders/{completed}/hold", page, reason="too late")
    assert illegal.status == 409
    assert "is COMPLETED; hold is not allowed" in illegal.html and 'data-testid="order-status"' in illegal.html
    invalid = agent.act(f"/admin/orders/{completed}/refund", page, amount="abc", reason="goodwill")
    assert invalid.status == 422 and "amount" in invalid.html
    too_much = agent.act(f"/admin/orders/{completed}/refund", page, amount="100000", reason="goodwill")
    assert too_much.status in (403, 409)  # above the agent's limit, or above what was captured


def test_a_double_submit_acts_once(local_stack, world):
    agent = signed_in(local_stack, world, "agent")
    order_id = world["scenario"].in_transit[0]
    page = agent.get(f"/admin/orders/{order_id}")
    form = {"csrf": page.hidden("csrf"), "key": f"k-{uuid.uuid4()}", "note": "called the customer once"}
    assert agent.post(f"/admin/orders/{order_id}/note", form).status == 303
    assert agent.post(f"/admin/orders/{order_id}/note", form).status == 303
    shown = agent.get(f"/admin/orders/{order_id}?done=note")
    assert shown.html.count("called the customer once") == 1
    assert 'data-testid="notice"' in shown.html


def test_orders_search_by_phone_and_the_htmx_partial(local_stack, world):
    agent = signed_in(local_stack, world, "agent")
    local = "0" + AGENT_CUSTOMER_PHONE.removeprefix("+966")  # typed as a Saudi customer says it
    full = agent.get(f"/admin/orders?phone={urllib.parse.quote(local)}")
    assert full.status == 200 and full.html.startswith("<!doctype html>")
    assert f'data-order-id="{world["scenario"].on_hold}"' in full.html
    assert f'data-order-id="{world["scenario"].completed[0]}"' not in full.html
    partial = agent.get(f"/admin/orders?phone={urllib.parse.quote(AGENT_CUSTOMER_PHONE)}",
                        **{"HX-Request": "true", "HX-Target": "results"})
    assert partial.status == 200 and partial.html.lstrip().startswith('<section id="results"')
    assert "<html" not in partial.html and f'data-order-id="{world["scenario"].on_hold}"' in partial.html
    by_status = agent.get("/admin/orders?status=COMPLETED")
    assert all(f'data-order-id="{o}"' in by_status.html for o in world["scenario"].completed)
    assert f'data-order-id="{world["scenario"].on_hold}"' not in by_status.html


def test_language_and_digits_follow_the_operator(local_stack, world):
    agent = signed_in(local_stack, world, "agent")  # the agent's account says Arabic
    page = agent.get("/admin/orders")
    assert '<html lang="ar" dir="rtl">' in page.html and "الطلبات" in page.html
    switched = agent.post("/admin/settings", {"csrf": page.hidden("csrf"), "digits": "arab", "next": "/admin/stock"})
    assert switched.status == 303 and switched.headers["location"] == "/admin/stock"
    stock = agent.get("/admin/stock")
    assert re.search("[\u0660-\u0669]", stock.html)
    english = agent.post("/admin/settings", {"csrf": page.hidden("csrf"), "lang": "en", "next": "/admin/orders"})
    assert english.status == 303
    page = agent.get("/admin/orders")
    assert '<html lang="en" dir="ltr">' in page.html and ">Orders<" in page.html
    # The choice is this operator's: the manager signing in on the same browser gets their own account's language.
    agent.cookies.pop(SESSION_COOKIE)
    assert PREFS_COOKIE in agent.cookies
    agent.sign_in("manager", world["operators"]["manager"].password)
    page = agent.get("/admin/orders")
    assert '<html lang="en" dir="ltr">' in page.html
    open_redirect = agent.post("/admin/settings", {"csrf": page.hidden("csrf"), "lang": "ar",
                                                   "next": "//evil.example/admin"})
    assert open_redirect.headers["location"] == "/admin"


def test_static_files_are_served_cacheable_and_nothing_else(local_stack, world):
    browser = Browser(local_stack.gateway_url)
    for name, media_type in (("vendor/htmx.min.js", "text/javascript"), ("vendor/chart.umd.min.js", "text/javascript"),
                             ("console.css", "text/css"), ("console.js", "text/javascript")):
        page = browser.get(f"/admin/static/{name}")
        assert page.status == 200 and page.headers["content-type"].startswith(media_type), name
        assert "immutable" in page.headers["cache-control"]
        assert page.headers["x-content-type-options"] == "nosniff"
    for name in ("../console.py", "..%2Fconsole.py", ".hidden.js", "templates/base.html", "nope.js"):
        assert browser.get(f"/admin/static/{name}").status == 404, name


def test_an_agent_places_an_order_for_a_customer_through_the_form(local_stack, world):
    agent = signed_in(local_stack, world, "agent")
    form_page = agent.get("/admin/place-order")
    assert form_page.forms("place-order-form")
    fields = {"phone": "050 000 0888", "email": "walkin@example.com", "preferred_channel": "sms",
              "customer_language": "ar", "name": "فاطمة <i>", "line1": "1 King Fahd Rd", "city": "Riyadh",
              "country": "SA", "shipping_method": "standard", "sku_0": "mug-classic", "quantity_0": "2",
              "payment": "cash_on_delivery", "hold_reason": ""}
    invalid = agent.act("/admin/place-order", form_page, **{**fields, "email": "not-an-email"})
    assert invalid.status == 422 and "contact.email" in invalid.html and 'value="1 King Fahd Rd"' in invalid.html
    placed = agent.act("/admin/place-order", form_page, **fields)
    assert placed.status == 303, placed.html[:500]
    location = placed.headers["location"]
    assert re.fullmatch(r"/admin/orders/ord_[0-9a-f]{32}\?done=place_order", location)
    order = agent.get(location)
    assert order.status == 200 and "فاطمة &lt;i&gt;" in order.html and "+966500000888" in order.html
    assert 'data-action="place_order"' in order.html
    warehouse = signed_in(local_stack, world, "warehouse")
    refused = warehouse.act("/admin/place-order", warehouse.get("/admin/stock"), **fields)
    assert refused.status == 403


def test_warehouse_adjusts_and_transfers_stock_and_receives_it(local_stack, world):
    warehouse = signed_in(local_stack, world, "warehouse")
    page = warehouse.get("/admin/stock?sku=PRAYER-MAT")
    assert page.status == 200 and 'data-sku="PRAYER-MAT"' in page.html

    def level(location: str) -> dict[str, int]:
        html = warehouse.get(f"/admin/stock?sku=PRAYER-MAT&location={location}").html
        row = re.search(rf'<tr data-sku="PRAYER-MAT" data-location="{location}"([^>]*)>', html)
        return {k: int(v) for k, v in re.findall(r'data-([a-z-]+)="(\d+)"', row.group(1))} if row else {}

    before = level("riyadh-dc")
    adjusted = warehouse.act("/admin/stock/adjust", page, sku="PRAYER-MAT", location="riyadh-dc", delta="5",
                             reason="supplier delivery")
    assert adjusted.status == 303 and adjusted.headers["location"] == "/admin/stock?done=adjust"
    assert level("riyadh-dc")["on-hand"] == before["on-hand"] + 5
    moved = warehouse.act("/admin/stock/transfer", page, sku="PRAYER-MAT", from_location="riyadh-dc",
                          to_location="jeddah-store", quantity="3", reason="rebalance")
    assert moved.status == 303
    assert level("jeddah-store")["in-transit"] == 3
    listing = warehouse.get("/admin/stock?sku=PRAYER-MAT")
    transfer_id = re.search(r'data-transfer-id="([^"]+)"', listing.html).group(1)
    assert warehouse.act("/admin/stock/receive", listing, transfer_id=transfer_id).status == 303
    arrived = level("jeddah-store")
    assert arrived["in-transit"] == 0 and arrived["on-hand"] >= 3
    too_many = warehouse.act("/admin/stock/adjust", page, sku="PRAYER-MAT", location="riyadh-dc", delta="-100000",
                             reason="count")
    assert too_many.status == 409 and 'data-testid="problem"' in too_many.html
    agent = signed_in(local_stack, world, "agent")
    assert agent.act("/admin/stock/adjust", agent.get("/admin/stock"), sku="PRAYER-MAT", location="riyadh-dc",
                     delta="1", reason="x").status == 403


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")


def test_no_customer_data_in_the_logs(local_stack, world):
    # Every function logs through Powertools' logger, a standard logger (named for the service on AWS, for its
    # container on the local stack: dawra/local/cloud.py): what it is handed, message and extras, is recorded here.
    # The local stack logs at WARNING; here every container's logger (warm after signing in) logs at INFO.
    agent = signed_in(local_stack, world, "agent")
    lines = _Lines()
    loggers = {name: logger for name, logger in logging.Logger.manager.loggerDict.items()
               if isinstance(logger, logging.Logger) and name.startswith("dawra-local.")}
    levels = {name: logger.level for name, logger in loggers.items()}
    for logger in loggers.values():
        logger.addHandler(lines)
        logger.setLevel(logging.INFO)
    try:
        _work_on_a_customers_order(agent, world)
    finally:
        for name, logger in loggers.items():
            logger.removeHandler(lines)
            logger.setLevel(levels[name])
    text = "\n".join(lines.lines)
    assert "console action" in text  # the log lines are there, and they name no customer
    for secret in ("Khalid", "khalid@example.com", AGENT_CUSTOMER_PHONE, "555123456", "secret-reason-xyz",
                   "secret-password-xyz", world["operators"]["agent"].password):
        assert secret not in text, secret


def _work_on_a_customers_order(agent: Browser, world) -> None:
    order_id = world["scenario"].on_hold
    agent.get(f"/admin/orders?phone={urllib.parse.quote(AGENT_CUSTOMER_PHONE)}&email=khalid%40example.com")
    page = agent.get(f"/admin/orders/{order_id}")
    agent.act(f"/admin/orders/{order_id}/note", page, note="Khalid prefers mornings, call +966555123456")
    agent.act(f"/admin/orders/{order_id}/hold", page, reason="secret-reason-xyz")  # refused: 409, logged
    agent.act(f"/admin/orders/{order_id}/refund", page, amount="abc", reason="secret-reason-xyz")
    agent.post("/admin/signin", {"csrf": "x", "username": "agent", "password": "secret-password-xyz"})
