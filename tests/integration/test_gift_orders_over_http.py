"""Gift orders over the local stack's HTTP gateway, as a storefront, a buyer, a recipient and the warehouse meet them:
a gift placed through the storefront API and read back, a bad gift refused with nothing written, the confirmation
with its gift receipt link, the receipt opened (no prices, the message escaped, its link opening nothing else), the
customer's page, the console's packing slip for the warehouse, and an agent's gift order over the admin API."""

from __future__ import annotations

import re
import time
import urllib.parse
import uuid

import pytest
from pages import call

from dawra.contracts.api import EXAMPLE_ORDER
from dawra.contracts.problems import PROBLEM_JSON
from dawra.domain.pricing import DEFAULT_POLICY, tax_on
from dawra.local.actors import AdminApi, Storefront
from dawra.local.scenario import sign_in
from dawra.local.seed import seed_operators

pytestmark = pytest.mark.timeout(240)
MESSAGE = "<script>alert('x')</script> \"for you\" & more\nعيد ميلاد سعيد 🎁"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &#34;for you&#34; &amp; more"
RECEIPT = re.compile(r"http://127\.0\.0\.1:\d+/my-order/[A-Za-z0-9_-]{52}/gift-receipt")
PAGE = re.compile(r"http://127\.0\.0\.1:\d+/my-order/[A-Za-z0-9_-]{52}(?![A-Za-z0-9_/-])")


def an_order(email: str, **extra: object) -> dict:
    return {**EXAMPLE_ORDER, "contact": {"email": email, "preferred_channel": "email", "language": "en"},
            "shipping_address": {**EXAMPLE_ORDER["shipping_address"], "name": "Layla"}, **extra}


def messages_to(stack, address: str, count: int, timeout_s: float = 30) -> list:
    deadline = time.monotonic() + timeout_s
    while True:
        found = [m for m in stack.outbox() if m.to == address]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.fixture(scope="module")
def gift(local_stack):
    """A wrapped gift with a hostile, Arabic and emoji message, placed through the storefront API and shipped."""
    store = Storefront(local_stack.gateway_url)
    email = f"g-{uuid.uuid4().hex[:10]}@example.com"
    placed = store.place_order(an_order(email, gift={"wrap": True, "message": MESSAGE, "recipient_name": "Layla"}),
                               f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body
    order = store.wait_for(placed.body["order_id"], {"SHIPPED"})
    return {"placed": placed.body, "order": order, "email": email}


def test_a_gift_is_placed_priced_with_its_wrap_and_read_back(local_stack, gift):
    totals, fee = gift["placed"]["totals"], DEFAULT_POLICY.gift_wrap_fee
    assert totals["gift_wrap"] == {"amount": fee, "currency": "SAR"}
    assert totals["total"]["amount"] == (totals["subtotal"]["amount"] + totals["shipping"]["amount"] + fee
                                         + totals["tax"]["amount"])
    plain = Storefront(local_stack.gateway_url).place_order(an_order("plain@example.com"), f"key-{uuid.uuid4().hex}")
    assert plain.body["totals"]["gift_wrap"] is None and plain.body["gift"] is None
    assert totals["total"]["amount"] - plain.body["totals"]["total"]["amount"] == fee + tax_on(fee, 1500)
    read = gift["order"]
    assert read["gift"] == {"wrap": True, "message": MESSAGE, "recipient_name": "Layla"}
    assert read["payment"]["authorized"] == totals["total"]


@pytest.mark.parametrize(("bad", "field"), [
    ({"message": "x" * 301}, "gift.message"),
    ({"message": "bell\u0007"}, "gift.message"),
    ({"message": "a\u202eb"}, "gift.message"),
    ({"wrap": True, "recipient_name": "x" * 101}, "gift.recipient_name"),
    ({"wrap": True, "bow": "red"}, "gift.bow"),
])
def test_a_bad_gift_is_a_problem_and_writes_nothing(local_stack, bad, field):
    store, key = Storefront(local_stack.gateway_url), f"key-{uuid.uuid4().hex}"
    refused = store.place_order(an_order("bad-gift@example.com", gift=bad), key)
    assert refused.status == 422 and refused.headers["Content-Type"].startswith(PROBLEM_JSON)
    assert any(error["path"] == field for error in refused.body["errors"]), refused.body
    # Nothing was written under the key: the same key places the corrected order.
    assert store.place_order(an_order("bad-gift@example.com", gift={"wrap": True}), key).status == 201


def test_the_confirmation_links_a_receipt_without_prices_that_opens_nothing_else(local_stack, gift):
    sent = messages_to(local_stack, gift["email"], 2)
    [confirmation] = [m for m in sent if "confirmed" in m.subject]
    [shipped] = [m for m in sent if "on its way" in m.subject]
    assert "packed as a gift" in shipped.body and "alert" not in shipped.body  # not the message again
    assert "Hello," in confirmation.body and "Hello Layla" not in confirmation.body  # the buyer, not the recipient
    assert ESCAPED in confirmation.body or MESSAGE in confirmation.body
    receipt_url = RECEIPT.search(confirmation.body)[0]
    receipt = call("GET", receipt_url)
    assert receipt.status == 200 and receipt.headers["Referrer-Policy"] == "no-referrer"
    html = receipt.text
    assert ESCAPED in html and "<script>alert" not in html and "عيد ميلاد سعيد 🎁" in html
    assert "Classic mug" in html and "SAR" not in html and not re.search(r"\d+\.\d\d", html)
    assert '<html lang="en" dir="ltr">' in html
    arabic = call("GET", receipt_url + "?lang=ar").text
    assert '<html lang="ar" dir="rtl">' in arabic and "كوب كلاسيكي" in arabic and ESCAPED in arabic
    # The receipt's token is not an order link: as the order page it is the one 404.
    token = receipt_url.rsplit("/", 2)[1]
    assert call("GET", receipt_url.replace(f"/{token}/gift-receipt", f"/{token}")).status == 404
    page_url = PAGE.search(confirmation.body)[0]
    page = call("GET", page_url)
    assert page.status == 200 and ESCAPED in page.text and 'data-testid="gift-receipt-link"' in page.text
    assert call("GET", page_url + "/gift-receipt").status == 404  # the order's link opens no receipt
    as_json = call("GET", f"{local_stack.gateway_url}/customer/order",
                   headers={"Authorization": f"Bearer {page_url.rsplit('/', 1)[1]}"}).json()
    assert as_json["gift"]["message"] == MESSAGE and RECEIPT.fullmatch(as_json["gift_receipt_url"])


@pytest.fixture(scope="module")
def operators(local_stack):
    return {operator.username: operator for operator in seed_operators(local_stack.cloud)}


class Session:
    """A signed-in operator's browser, enough to read console pages (cookies kept, redirects not followed)."""

    def __init__(self, base: str, username: str, password: str):
        self.base, self.cookies = base, {}
        page = self.get("/admin/signin")
        csrf = re.search(r'name="csrf" value="([^"]*)"', page.text)[1]
        signed = self.request("POST", "/admin/signin", urllib.parse.urlencode(
            {"csrf": csrf, "username": username, "password": password, "next": ""}).encode())
        assert signed.status == 303, signed.text[:300]

    def request(self, method: str, path: str, body: bytes | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        answer = call(method, self.base + path, body, headers)
        for name, value in answer.headers.items():
            if name.lower() == "set-cookie":
                for line in value.split(", __Host"):
                    cookie, _, _ = line.partition(";")
                    key, _, val = cookie.partition("=")
                    self.cookies[key if key.startswith("__Host") else "__Host" + key] = val
        return answer

    def get(self, path: str):
        return self.request("GET", path)


def test_the_warehouse_prints_a_packing_slip_with_the_escaped_message_and_no_prices(local_stack, gift, operators):
    warehouse = Session(local_stack.gateway_url, "warehouse", operators["warehouse"].password)
    order = gift["order"]
    [shipment] = order["shipments"]
    order_page = warehouse.get(f"/admin/orders/{order['order_id']}")
    assert order_page.status == 200 and ESCAPED in order_page.text and "<script>alert" not in order_page.text
    path = f"/admin/orders/{order['order_id']}/shipments/{shipment['shipment_id']}/packing-slip"
    assert path in order_page.text
    slip = warehouse.get(path)
    assert slip.status == 200 and 'data-gift="yes"' in slip.text
    assert ESCAPED in slip.text and "<script>alert" not in slip.text and "عيد ميلاد سعيد 🎁" in slip.text
    assert "SAR" not in slip.text and "45.00" not in slip.text
    assert slip.headers["Content-Security-Policy"] and slip.headers["Cache-Control"] == "no-store"


def test_an_agent_places_a_gift_for_a_customer_over_the_admin_api(local_stack, operators):
    agent = AdminApi(local_stack.gateway_url, sign_in(local_stack, operators["agent"]))
    placed = agent.post("/orders", {
        "customer_id": "cust-gift", "contact": {"email": "gift-phone@example.com", "phone": "+966555000222"},
        "shipping_address": {"name": "Noura", "line1": "1 St", "city": "Riyadh", "country": "SA"},
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment": "cash_on_delivery",
        "gift": {"wrap": True, "message": "Congratulations!", "recipient_name": "Noura"}}, f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body
    order = placed.body["order"]
    assert order["gift"] == {"wrap": True, "message": "Congratulations!", "recipient_name": "Noura"}
    assert order["totals"]["gift_wrap"]["amount"] == DEFAULT_POLICY.gift_wrap_fee
    read = agent.get(f"/orders/{order['order_id']}")
    assert read.status == 200 and read.body["gift"]["recipient_name"] == "Noura"
