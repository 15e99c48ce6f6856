"""The customer's order page over the local stack's HTTP gateway, as a customer meets it: an order placed through the
storefront API, its confirmation read from the outbox, the link in it opened (the page, and the same as JSON), and the
guest lookup. A link opens its own order only; a lookup's answer never tells whether anything matched.

Uses the module-scoped, seeded `local_stack` of tests/conftest.py. Every request comes from 127.0.0.1, so the whole
module stays under the lookup's per-source limit (10 per 15 minutes) and the limit test uses the per-contact one."""

from __future__ import annotations

import json
import re
import time
import uuid
from urllib.parse import urlencode

import pytest
from pages import Answer, call

from dawra.contracts.api import EXAMPLE_ORDER
from dawra.local.actors import Storefront
from dawra.rendering import order_reference

pytestmark = pytest.mark.timeout(180)
LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/my-order/([A-Za-z0-9_-]{52})")


def messages_to(stack, address: str, count: int, timeout_s: float = 30, subject: str = "") -> list:
    deadline = time.monotonic() + timeout_s
    while True:
        found = [m for m in stack.outbox() if m.to == address and subject in m.subject]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def place(stack, language: str = "en", name: str = "Sara") -> tuple[str, str]:
    """An order through the storefront API; (order id, customer email)."""
    email = f"c-{uuid.uuid4().hex[:10]}@example.com"
    order = {**EXAMPLE_ORDER, "contact": {"email": email, "preferred_channel": "email", "language": language},
             "shipping_address": {**EXAMPLE_ORDER["shipping_address"], "name": name}}
    placed = Storefront(stack.gateway_url).place_order(order, f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body
    return placed.body["order_id"], email


def link_in(message) -> tuple[str, str]:
    match = LINK.search(message.body)
    assert match, message.body
    return match[0], match[2]


@pytest.fixture(scope="module")
def arabic_order(local_stack):
    order_id, email = place(local_stack, language="ar", name="<script>alert(1)</script>")
    confirmation = messages_to(local_stack, email, 1)[0]
    url, token = link_in(confirmation)
    return order_id, email, url, token


@pytest.fixture(scope="module")
def english_order(local_stack):
    order_id, email = place(local_stack)
    confirmation = messages_to(local_stack, email, 1)[0]
    url, token = link_in(confirmation)
    return order_id, email, url, token


def test_the_confirmation_carries_a_link_that_opens_the_page_in_the_customers_language(local_stack, arabic_order):
    order_id, email, url, _token = arabic_order
    message = messages_to(local_stack, email, 1)[0]
    assert url.startswith(local_stack.gateway_url + "/my-order/")  # the local gateway: it opens in a browser
    assert order_reference(order_id) in message.body and "Dawra Demo Shop" in message.body
    assert "help@shop.dawra.example" in message.body
    page = call("GET", url)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<html lang="ar" dir="rtl">' in page.text and order_reference(order_id) in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert(1)" not in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    english = call("GET", url + "?lang=en")
    assert '<html lang="en" dir="ltr">' in english.text
    css = call("GET", re.search(r'href="([^"]+customer\.css[^"]*)"', page.text)[1].replace("&amp;", "&")
               .join([local_stack.gateway_url, ""]))
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")


def test_the_same_order_as_json_with_the_token_as_a_bearer_token(local_stack, english_order):
    order_id, _, _, token = english_order
    answer = call("GET", f"{local_stack.gateway_url}/customer/order", headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200, answer.text
    view = answer.json()
    assert view["reference"] == order_reference(order_id) and view["contact"]["email"].startswith("c•••@")
    assert view["stage"] in ("received", "preparing", "on_its_way") and view["lines"][0]["sku"] == "MUG-CLASSIC"
    assert {e["kind"] for e in view["timeline"]} >= {"order_confirmed"}
    assert "payment" not in view and answer.headers["Cache-Control"] == "no-store"
    missing = call("GET", f"{local_stack.gateway_url}/customer/order")
    assert missing.status == 404 and missing.headers["Content-Type"] == "application/problem+json"


def test_a_link_for_one_order_cannot_read_or_act_on_another(local_stack, arabic_order, english_order):
    base = local_stack.gateway_url
    _, _, _url_a, token_a = arabic_order
    order_b, _, url_b, token_b = english_order
    page_b = call("GET", url_b).text
    # Order A's token with order B's id written into it (the signature no longer fits), and B's token altered.
    import base64

    raw = bytearray(base64.urlsafe_b64decode(token_a))
    raw[1:17] = bytes.fromhex(order_b.removeprefix("ord_"))
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    altered = token_b[:-2] + ("AA" if token_b[-2:] != "AA" else "BB")
    refusals = []
    for token in (forged, altered):
        refusals.append(call("GET", f"{base}/my-order/{token}"))
        refusals.append(call("GET", f"{base}/customer/order", headers={"Authorization": f"Bearer {token}"}))
        for form in ("cancel", "address", "contact"):
            # B's own form fields, even its CSRF token: still nothing, because the link opens no order.
            fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page_b))
            refusals.append(call("POST", f"{base}/my-order/{token}/{form}",
                                 "&".join(f"{k}={v}" for k, v in fields.items()).encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded"}))
    assert [r.status for r in refusals] == [404] * len(refusals)
    html = {r.body for r in refusals if r.headers["Content-Type"].startswith("text/html")}
    problems = {r.body for r in refusals if r.headers["Content-Type"] == "application/problem+json"}
    assert len(html) == 1 and len(problems) == 1  # one answer, whatever was wrong
    after = call("GET", f"{base}/customer/order", headers={"Authorization": f"Bearer {token_b}"}).json()
    assert after["status"] not in ("CANCELLED",) and not after["timeline"][-1]["kind"].startswith("cancel")


def lookup(base: str, reference: str, contact: str) -> Answer:
    """The lookup form as a browser fills it in: its page first (a nonce cookie and the form's token), then the post.
    (The cookie is Secure: a browser sends it to http://127.0.0.1, Python's cookie jar does not, so it is sent here.)"""
    form = call("GET", f"{base}/my-order")
    nonce = re.match(r"__Host-dawra-lookup=([^;]+);", form.headers.get("Set-Cookie", ""))
    assert form.status == 200 and nonce
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
    return call("POST", f"{base}/my-order/lookup",
                urlencode({"csrf": csrf, "lang": "en", "reference": reference, "contact": contact}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "Origin": base,
                 "Cookie": f"__Host-dawra-lookup={nonce[1]}"})


def test_the_lookup_sends_the_link_only_when_it_matches_and_answers_the_same_either_way(local_stack, english_order):
    base = local_stack.gateway_url
    order_id, email, _, _ = english_order
    link_subject = "The link to your order"
    matched = lookup(base, order_reference(order_id).lower(), email.upper())
    unmatched = lookup(base, order_reference(order_id), "someone-else@example.com")
    assert (matched.status, matched.body, matched.headers.get("Location")) == (
        unmatched.status, unmatched.body, unmatched.headers.get("Location")) == (303, b"", "/my-order?sent=1&lang=en")
    assert matched.headers.get("Set-Cookie") == unmatched.headers.get("Set-Cookie")
    as_json = [call("POST", f"{base}/customer/order-link", json.dumps({"reference": ref, "contact": contact}).encode(),
                    {"Content-Type": "application/json"})
               for ref, contact in ((order_reference(order_id), email), ("#00000000", email))]
    assert as_json[0].status == as_json[1].status == 202 and as_json[0].body == as_json[1].body
    messages_to(local_stack, email, 1, subject=link_subject)
    time.sleep(2)  # long enough for a second (wrong) message to arrive, were one sent
    sent = messages_to(local_stack, email, 1, subject=link_subject)
    assert len(sent) == 1  # the form and the JSON lookups in the same hour: one message
    url, token = link_in(sent[0])
    assert call("GET", url).status == 200
    view = call("GET", f"{base}/customer/order", headers={"Authorization": f"Bearer {token}"}).json()
    assert view["reference"] == order_reference(order_id)


def test_lookups_for_one_contact_are_limited(local_stack):
    base = local_stack.gateway_url
    contact = f"limited-{uuid.uuid4().hex[:8]}@example.com"
    answers = [call("POST", f"{base}/customer/order-link",
                    json.dumps({"reference": "#00000000", "contact": contact}).encode(),
                    {"Content-Type": "application/json"}) for _ in range(4)]
    assert [a.status for a in answers] == [202, 202, 202, 429]
    assert answers[3].headers["Content-Type"] == "application/problem+json" and "Retry-After" in answers[3].headers
    assert answers[3].json()["code"] == "too_many_requests"


# --- the customer's own actions, on an order that has not shipped (an agent's order held before shipping) ---------
@pytest.fixture(scope="module")
def held_order(local_stack):
    from dawra.local.actors import AdminApi
    from dawra.local.demo import customer
    from dawra.local.scenario import sign_in
    from dawra.local.seed import seed_operators

    agent = next(o for o in seed_operators(local_stack.cloud) if o.role == "agent")
    api = AdminApi(local_stack.gateway_url, sign_in(local_stack, agent))
    email = f"held-{uuid.uuid4().hex[:8]}@example.com"
    placed = api.post("/orders", {"customer_id": "cust-held", **customer("Khalid", email, phone="+966555123456"),
                                  "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment": "cash_on_delivery",
                                  "hold_reason": "Customer confirms the delivery day by phone"},
                      key=f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body
    order_id = placed.body["order"]["order_id"]
    Storefront(local_stack.gateway_url).wait_for(order_id, {"ON_HOLD"})
    url, token = link_in(messages_to(local_stack, email, 1)[0])
    return order_id, email, url, token


def submit(base: str, url: str, page: str, form: str, **fields: str) -> Answer:
    """Post one of the page's forms as a browser would: its hidden fields (CSRF token, key, language) and `fields`."""
    found = re.search(rf'<form[^>]*data-testid="{form}-form".*?</form>', page, re.S)
    assert found, f"no {form} form on the page"
    action = re.search(r'action="([^"]+)"', found[0])[1]
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', found[0]))
    return call("POST", base + action, urlencode({**hidden, **fields}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "Origin": base, "Sec-Fetch-Site": "same-origin"})


def test_the_customer_changes_the_address_once_then_cancels_the_order(local_stack, held_order):
    base = local_stack.gateway_url
    order_id, email, url, token = held_order
    page = call("GET", url).text
    assert 'data-testid="address-form"' in page and 'data-testid="cancel-form"' in page
    address = {"name": "Khalid Al-Shehri", "line1": "7 Prince Sultan Rd", "city": "Riyadh"}
    changed = submit(base, url, page, "address", **address)
    assert changed.status == 303 and changed.headers["Location"].endswith("done=address_changed&lang=en")
    again = submit(base, url, page, "address", **address)  # the same form sent twice (same key): acts once
    assert again.status == 303
    view = call("GET", f"{base}/customer/order", headers={"Authorization": f"Bearer {token}"}).json()
    assert view["shipping_address"]["line1"] == "7 Prince Sultan Rd"
    assert [e["kind"] for e in view["timeline"]].count("address_changed") == 1
    after = call("GET", base + changed.headers["Location"]).text
    assert "The delivery address is changed." in after and "7 Prince Sultan Rd" in after

    refused = call("POST", f"{url}/cancel", b"key=abcdefgh12345678",  # a forged form (no CSRF token): refused
                   {"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status == 403
    cancelled = submit(base, url, call("GET", url).text, "cancel")
    assert cancelled.status == 303 and "done=cancelled" in cancelled.headers["Location"]
    Storefront(base).wait_for(order_id, {"CANCELLED"})
    final = call("GET", url).text
    assert 'data-stage="cancelled"' in final and 'data-testid="cancel-form"' not in final
    cancellation = messages_to(local_stack, email, 1, subject="cancelled")
    assert cancellation and link_in(cancellation[0])[1]  # the cancellation message carries the link too
