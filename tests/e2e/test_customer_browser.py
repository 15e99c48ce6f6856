"""The customer's order page in Chromium, as a customer uses it on a phone: the link in the message from the local
outbox opens their order in Arabic (right to left), they change the delivery address, then cancel the order and see
it cancelled; the guest lookup form too. Every page is photographed into docs/screenshots/ (customer-*), and no page
may break its Content-Security-Policy or throw."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from dawra.local.actors import AdminApi, Storefront
from dawra.local.demo import customer

from .conftest import DESKTOP, MOBILE, Browser, seeded_local_stack

LINK = re.compile(r"http://127\.0\.0\.1:\d+/my-order/[A-Za-z0-9_-]{52}")


@dataclass
class Shop:
    stack: Any
    agent_token: str

    @property
    def url(self) -> str:
        return str(self.stack.gateway_url)


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    """The local stack as `make up` runs it (catalog, stock, operators); no back-office scenario is needed here."""
    from dawra.local.scenario import sign_in
    from dawra.local.seed import seed_operators

    with seeded_local_stack() as stack:
        agent = next(o for o in seed_operators(stack.cloud) if o.role == "agent")
        yield Shop(stack, sign_in(stack, agent))


def held_order(world: Shop, language: str) -> tuple[str, str]:
    """An order an agent placed for a customer and held before shipping (so it can still change); its link, from the
    confirmation message in the outbox."""
    email = f"browser-{uuid.uuid4().hex[:8]}@example.com"
    api = AdminApi(world.url, world.agent_token)
    placed = api.post("/orders", {"customer_id": "cust-browser",
                                  **customer("سارة العتيبي", email, phone="+966555123456", language=language),
                                  "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}], "payment": "cash_on_delivery",
                                  "hold_reason": "Customer confirms the delivery day by phone"},
                      key=f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body
    order_id = placed.body["order"]["order_id"]
    Storefront(world.url).wait_for(order_id, {"ON_HOLD"})
    for _ in range(200):
        messages = [m for m in world.stack.outbox() if m.to == email]
        if messages:
            return order_id, LINK.search(messages[0].body)[0]
        time.sleep(0.1)
    raise AssertionError("no confirmation in the outbox")


def test_a_customer_opens_the_link_changes_the_address_and_cancels_in_arabic(chromium, shop, screenshots):
    order_id, link = held_order(shop, "ar")
    you = Browser(chromium, MOBILE, "ar-SA")
    page = you.page
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-stage", "preparing")
    expect(page.locator("[data-testid=reference]")).to_have_text("#" + order_id[4:12].upper())
    # Right to left for real: the page's text starts at the right edge.
    heading = page.locator("h1").bounding_box()
    assert heading and heading["x"] + heading["width"] > MOBILE["width"] - 40
    you.shoot("customer-order-mobile-ar", screenshots)

    form = page.locator("form[data-testid=address-form]")
    street = "\u0667 طريق الأمير سلطان"  # 7, in Arabic-Indic digits, as an Arabic keyboard types it
    form.locator("input[name=line1]").fill(street)
    form.locator("input[name=line2]").fill("الدور الثالث، شقة \u0661\u0662")
    form.locator("input[name=city]").fill("Riyadh")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"done=address_changed"))
    expect(page.locator("[data-testid=notice]")).to_have_text("تم تغيير عنوان التوصيل.")
    expect(page.locator("[data-testid=address]")).to_contain_text(street)
    expect(page.locator("[data-testid=timeline] li[data-kind=address_changed]")).to_have_count(1)
    you.shoot("customer-address-changed-mobile-ar", screenshots)

    page.locator("form[data-testid=cancel-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r"done=cancelled"))
    expect(page.locator("[data-testid=notice]")).to_be_visible()
    Storefront(shop.url).wait_for(order_id, {"CANCELLED"})
    page.reload()
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-stage", "cancelled")
    expect(page.locator("form[data-testid=cancel-form]")).to_have_count(0)
    expect(page.locator("[data-testid=timeline] li[data-kind=order_cancelled]")).to_have_count(1)
    you.shoot("customer-cancelled-mobile-ar", screenshots)
    you.close()


def test_the_page_in_english_on_a_desktop_and_the_guest_lookup(chromium, shop, screenshots):
    order_id, link = held_order(shop, "en")
    you = Browser(chromium, DESKTOP, "en-US")
    page = you.page
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("form[data-testid=contact-form]")).to_be_visible()
    you.shoot("customer-order-en", screenshots)
    page.click("[data-testid=switch-language]")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    you.shoot("customer-order-ar", screenshots)

    page.goto(shop.url + "/my-order?lang=ar")
    page.fill("input[name=reference]", "#" + order_id[4:12].lower())
    page.fill("input[name=contact]", "0555123456")
    page.locator("form[data-testid=lookup-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r"sent=1"))
    expect(page.locator("[data-testid=notice]")).to_be_visible()
    you.shoot("customer-lookup-ar", screenshots)
    page.goto(link[:-3] + "abc")  # a damaged link
    expect(page.locator("h1")).to_have_text("Sorry")
    you.close()


def test_after_delivery_the_customer_rates_the_order_once(chromium, shop, screenshots):
    from dawra.local.actors import SandboxCarrierSimulator

    email = f"browser-{uuid.uuid4().hex[:8]}@example.com"
    store = Storefront(shop.url)
    placed = store.place_order({"customer_id": "cust-browser", **customer("سارة العتيبي", email, language="ar"),
                                "lines": [{"sku": "DATES-1KG", "quantity": 1}], "payment_token": "tok_sandbox_approve"},
                               f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    carrier = SandboxCarrierSimulator(shop.url, shop.stack.cloud.carrier_secrets["carrier-sandbox-webhook"])
    for _ in range(300):
        order = store.get_order(order_id).body
        if order["shipments"] and all(s["tracking_number"] for s in order["shipments"]):
            break
        time.sleep(0.1)
    for shipment in order["shipments"]:
        carrier.deliver(shipment["tracking_number"])
    store.wait_for(order_id, {"COMPLETED"})
    link = next(LINK.search(m.body)[0] for m in shop.stack.outbox() if m.to == email)

    you = Browser(chromium, MOBILE, "ar-SA")
    page = you.page
    page.goto(link + "#feedback")
    form = page.locator("form[data-testid=feedback-form]")
    expect(form).to_be_visible()
    form.locator("[data-testid=rating-5] + span").click()  # the numbered box is what a thumb taps
    form.locator("[data-testid=recommend-9] + span").click()
    form.locator("textarea[name=comment]").fill("وصل الطلب سريعاً، شكراً <b>لكم</b>")
    you.shoot("customer-feedback-mobile-ar", screenshots)
    form.locator("[data-testid=feedback-submit]").click()
    page.wait_for_url(re.compile(r"done=feedback_given"))
    expect(page.locator("[data-testid=feedback-given]")).to_be_visible()
    expect(page.locator("[data-testid=feedback-comment]")).to_have_text("وصل الطلب سريعاً، شكراً <b>لكم</b>")
    expect(page.locator("form[data-testid=feedback-form]")).to_have_count(0)
    you.shoot("customer-feedback-given-mobile-ar", screenshots)
    you.close()
