"""Pick and pack in Chromium (decision 96): with riyadh-dc picking and packing by hand and the classic mug engraved
to order, a warehouse user signs in, sees the picking list in waves, marks the engraving done, marks one shipment
picked and packed by clicking and another by scanning its reference; both ship. Photographed into docs/screenshots/
(warehouse-*, English on a desktop and Arabic on a phone); no page may break its Content-Security-Policy or throw."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Locator, Page, expect

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.local.actors import Storefront
from dawra.local.seed import CATALOG, LOCATIONS

from .conftest import DESKTOP, MOBILE, signed_in


def place(store: Storefront, lines: dict[str, int], name: str) -> str:
    placed = store.place_order({
        "customer_id": "cust-warehouse", "contact": {"email": "warehouse-e2e@example.com"},
        "shipping_address": {"name": name, "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"},
        "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines.items()],
        "payment_token": "tok_sandbox_approve"}, f"warehouse-e2e-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    return str(placed.body["order_id"])


def listed(page: Page, order_id: str) -> Locator:
    """The order's row on the picking list, the page reloaded every half second (up to 30 s) until it is there."""
    row = page.locator(f"tr[data-order='{order_id}']")
    for _ in range(60):
        if row.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    return row


def test_a_warehouse_user_does_the_work_picks_and_packs_by_click_and_by_scan(world, chromium, screenshots):
    inventory = DynamoInventory(world.stack.cloud.resolve_ref("table", "inventory", "name"))
    (riyadh,) = [loc for loc in LOCATIONS if loc.location_id == "riyadh-dc"]
    inventory.put_location(riyadh.model_copy(update={"preparation": "pick_pack", "pack_within_hours": 6}))
    (mug,) = [item for item in CATALOG if item.sku == "MUG-CLASSIC"]
    inventory.put_catalog_item(mug.model_copy(update={"work": "engraving"}))
    store = Storefront(world.url)
    engraved = place(store, {"MUG-CLASSIC": 2}, "Sara")
    plain = place(store, {"DATES-1KG": 1}, "Omar")

    warehouse = signed_in(chromium, world, "warehouse", DESKTOP, "en")
    try:
        page = warehouse.page
        page.click("nav a[href$='/admin/warehouse']")
        page.wait_for_url(re.compile(r"/admin/warehouse"))
        for order_id in (engraved, plain):  # the workflow reserves them: they join the list
            expect(listed(page, order_id)).to_be_visible()
        expect(page.get_by_test_id("wave").first).to_contain_text("Wave 1")
        warehouse.shoot("warehouse-picking-en", screenshots)

        row = page.locator(f"tr[data-order='{engraved}']")
        expect(row.locator("[data-task]")).to_contain_text("Engraving")
        row.locator("form[action$='/warehouse/pick'] button").click()
        page.wait_for_url(re.compile(r"done=warehouse_pick"))
        pack = page.locator(f"tr[data-order='{engraved}'] form[action$='/warehouse/pack'] button")
        expect(pack).to_be_disabled()  # the engraving is not done yet
        page.locator(f"tr[data-order='{engraved}'] form[action$='/warehouse/work'] button").click()
        page.wait_for_url(re.compile(r"done=warehouse_work"))
        expect(page.locator(f"tr[data-order='{engraved}'] [data-task]")).to_have_attribute("data-done", "true")
        warehouse.shoot("warehouse-work-done-en", screenshots)
        page.locator(f"tr[data-order='{engraved}'] form[action$='/warehouse/pack'] button").click()
        page.wait_for_url(re.compile(r"done=warehouse_pack"))
        expect(page.locator(f"tr[data-order='{engraved}']")).to_have_count(0)

        shipment_id = page.locator(f"tr[data-order='{plain}']").get_attribute("data-shipment")
        for done in ("warehouse_pick", "warehouse_pack"):  # a scanner types the reference and presses enter
            scan = page.get_by_test_id("form-scan")
            scan.locator("input[name=code]").fill(str(shipment_id))
            scan.locator("input[name=code]").press("Enter")
            page.wait_for_url(re.compile(f"done={done}"))
        expect(page.get_by_test_id("picking-empty")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Marked packed")
        warehouse.shoot("warehouse-packed-en", screenshots)
    finally:
        warehouse.close()

    for order_id in (engraved, plain):
        assert store.wait_for(order_id, {"SHIPPED"}, timeout_s=60)["status"] == "SHIPPED"

    waiting = place(store, {"MUG-CLASSIC": 1}, "Huda")
    phone = signed_in(chromium, world, "warehouse", MOBILE, "ar")
    try:
        page = phone.page
        page.goto("/admin/warehouse?location=riyadh-dc")
        row = listed(page, waiting)
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("main")).to_contain_text("الدفعة")
        expect(row.locator("[data-task]")).to_contain_text("نقش")
        phone.shoot("warehouse-picking-ar", screenshots)
    finally:
        phone.close()
