"""Store pickup in Chromium (decision 98): an order placed for collection at the Jeddah store; a store user signs in,
sees it on the store's desk and marks it ready; the customer's page shows the pickup code as a QR with the store's
hours (Arabic, on a phone); at the desk the store user (Arabic, on a phone) types a wrong code first (refused), then
the right one: handed over, the order completes. Photographed into docs/screenshots/ (store-pickup-*); no page may
break its Content-Security-Policy or throw."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import expect

from dawra.local.actors import Storefront

from .conftest import DESKTOP, MOBILE, Browser, World, signed_in

LINK = re.compile(r"http://127\.0\.0\.1:\d+/my-order/[A-Za-z0-9_-]{52}")
CODE = re.compile(r"\b([2-9A-Z]{4}-[2-9A-Z]{4})\b")


def message_to(world: World, email: str, subject_has: str) -> Any:
    for _ in range(120):
        found = [m for m in world.stack.outbox() if m.to == email and subject_has in m.subject]
        if found:
            return found[0]
        import time

        time.sleep(0.25)
    raise AssertionError(f"no message {subject_has!r} to {email}")


def test_a_store_user_marks_ready_then_hands_over_by_code_after_a_wrong_one(world, chromium, screenshots):
    store = Storefront(world.url)
    email = f"pickup-e2e-{uuid.uuid4().hex[:8]}@example.com"
    placed = store.place_order({
        "customer_id": "cust-pickup-e2e", "contact": {"email": email, "language": "ar"},
        "shipping_address": {"name": "هدى", "line1": "7 Tahlia St", "city": "Jeddah", "country": "SA"},
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}, {"sku": "DALLAH-BRASS", "quantity": 1}],
        "payment_token": "tok_sandbox_approve", "delivery": {"method": "pickup", "location_id": "jeddah-store"}},
        f"pickup-e2e-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    order_id = str(placed.body["order_id"])

    desk = signed_in(chromium, world, "store", DESKTOP, "en", lands_on=r"/admin/(orders|audit|pickups)")
    try:
        page = desk.page
        page.click("nav a[href$='/admin/pickups']")
        page.wait_for_url(re.compile(r"/admin/pickups"))
        row = page.locator(f"[data-testid=pickups-to-prepare] tr[data-order='{order_id}']")
        for _ in range(60):  # the workflow reserves it at the store: it joins the desk's list
            if row.count():
                break
            page.wait_for_timeout(500)
            page.reload()
        expect(row).to_be_visible()
        expect(row).to_contain_text("MUG-CLASSIC")
        desk.shoot("store-pickup-desk-en", screenshots)
        row.locator("form[data-testid=form-ready] button").click()
        page.wait_for_url(re.compile(r"done=pickup_ready"))
        expect(page.locator("main")).to_contain_text("Marked ready")
        expect(page.locator(f"[data-testid=pickups-ready] tr[data-order='{order_id}']")).to_be_visible()
        desk.shoot("store-pickup-ready-en", screenshots)
    finally:
        desk.close()

    ready = message_to(world, email, "جاهز للاستلام")
    code = CODE.search(ready.body).group(1)
    customer = Browser(chromium, MOBILE, "ar-SA")
    try:
        page = customer.page
        page.goto(LINK.search(ready.body)[0])
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.get_by_test_id("pickup-code")).to_have_text(code)
        expect(page.get_by_test_id("pickup-qr").locator("svg")).to_be_visible()
        expect(page.get_by_test_id("pickup")).to_contain_text("ساعات العمل")
        customer.shoot("store-pickup-customer-ar", screenshots)
    finally:
        customer.close()

    phone = signed_in(chromium, world, "store", MOBILE, "ar", lands_on=r"/admin/(orders|audit|pickups)")
    try:
        page = phone.page
        page.goto("/admin/pickups?location=jeddah-store")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        row = page.locator(f"[data-testid=pickups-ready] tr[data-order='{order_id}']")
        expect(row).to_be_visible()
        row.locator("input[name=code]").fill("ZZZZ-ZZZZ")
        row.locator("form[data-testid=form-hand-over] button").click()
        expect(page.locator("main")).to_contain_text("رمز استلام خاطئ")
        phone.shoot("store-pickup-wrong-code-ar", screenshots)
        row = page.locator(f"[data-testid=pickups-ready] tr[data-order='{order_id}']")
        row.locator("input[name=code]").fill(code.lower())  # typed as the customer reads it out
        row.locator("form[data-testid=form-hand-over] button").click()
        page.wait_for_url(re.compile(r"done=pickup_hand_over"))
        expect(page.locator(f"tr[data-order='{order_id}']")).to_have_count(0)
        expect(page.locator("main")).to_contain_text("تم التسليم")
        phone.shoot("store-pickup-handed-over-ar", screenshots)
    finally:
        phone.close()

    done = store.wait_for(order_id, {"COMPLETED"}, timeout_s=60)
    assert done["shipments"][0]["status"] == "collected"
