"""A gift order in Chromium: the buyer opens their order page from the confirmation (Arabic, on a phone), follows the
gift receipt link (no prices; the message shown as typed, never run), and the warehouse prints the packing slip from
the console. Photographed into docs/screenshots/ (gift-*); no page may break its Content-Security-Policy or throw."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from dawra.contracts.api import EXAMPLE_ORDER
from dawra.local.actors import Storefront

from .conftest import DESKTOP, MOBILE, Browser, seeded_local_stack

LINK = re.compile(r"http://127\.0\.0\.1:\d+/my-order/[A-Za-z0-9_-]{52}(?![A-Za-z0-9_/-])")
MESSAGE = "عيد ميلاد سعيد يا ليلى 🎉🎁\n<img src=x onerror=\"window.__gift=1\"> \"Love\" & hugs, Sara"


@dataclass
class Shop:
    stack: Any
    warehouse_password: str

    @property
    def url(self) -> str:
        return str(self.stack.gateway_url)


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    from dawra.local.seed import seed_operators

    with seeded_local_stack() as stack:
        warehouse = next(o for o in seed_operators(stack.cloud) if o.role == "warehouse")
        yield Shop(stack, warehouse.password)


def gift_order(shop: Shop) -> tuple[dict[str, Any], str]:
    """A wrapped gift placed through the storefront API and shipped; its page link from the confirmation."""
    email = f"gift-{uuid.uuid4().hex[:8]}@example.com"
    order = {**EXAMPLE_ORDER, "contact": {"email": email, "preferred_channel": "email", "language": "ar"},
             "shipping_address": {**EXAMPLE_ORDER["shipping_address"], "name": "ليلى"},
             "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}, {"sku": "DATES-1KG", "quantity": 1}],
             "gift": {"wrap": True, "message": MESSAGE, "recipient_name": "ليلى"}}
    store = Storefront(shop.url)
    placed = store.place_order(order, f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body
    read = store.wait_for(placed.body["order_id"], {"SHIPPED"})
    for _ in range(300):
        sent = [m for m in shop.stack.outbox() if m.to == email and LINK.search(m.body)]
        if sent:
            return read, LINK.search(sent[0].body)[0]
        time.sleep(0.1)
    raise AssertionError("no confirmation with a link")


def test_the_buyer_opens_the_gift_receipt_and_the_warehouse_prints_the_slip(shop, chromium, screenshots):
    order, link = gift_order(shop)
    phone = Browser(chromium, MOBILE, "ar-SA")
    try:
        page = phone.page
        page.goto(link)
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.get_by_test_id("gift-message")).to_have_text(MESSAGE.replace("\n", " "), use_inner_text=False)
        phone.shoot("gift-order-ar", screenshots)
        page.get_by_test_id("gift-receipt-link").click()
        page.wait_for_url(re.compile(r"/gift-receipt"))
        expect(page.get_by_test_id("gift-receipt")).to_be_visible()
        assert page.evaluate("window.__gift") is None  # the message's markup was shown, never run
        assert page.locator("img").count() == 0
        body = page.inner_text("body")
        assert "SAR" not in body and "ر.س" not in body and "كوب كلاسيكي" in body
        direction = page.eval_on_selector("[data-testid=gift-message]", "e => getComputedStyle(e).direction")
        assert direction == "rtl"  # dir="auto": the message starts in Arabic
        phone.shoot("gift-receipt-ar", screenshots)
        page.goto(page.url + "?lang=en")
        expect(page.locator("html")).to_have_attribute("dir", "ltr")
        direction = page.eval_on_selector("[data-testid=gift-message]", "e => getComputedStyle(e).direction")
        assert direction == "rtl"  # still right to left inside an English page
        phone.shoot("gift-receipt-en", screenshots)
    finally:
        phone.close()

    desk = Browser(chromium, DESKTOP, "en-GB", shop.url)
    try:
        page = desk.page
        page.goto("/admin/signin?lang=en")
        page.fill("input[name=username]", "warehouse")
        page.fill("input[name=password]", shop.warehouse_password)
        page.click("form[data-testid=signin-form] button[type=submit]")
        page.wait_for_url(re.compile(r"/admin/orders"))
        page.goto(f"/admin/orders/{order['order_id']}")
        page.get_by_test_id("packing-slip-link").first.click()
        expect(page.get_by_test_id("packing-gift")).to_be_visible()
        assert page.evaluate("window.__gift") is None and page.locator("main img").count() == 0
        assert "SAR" not in page.inner_text("main")
        desk.shoot("gift-packing-slip-en", screenshots)
    finally:
        desk.close()
