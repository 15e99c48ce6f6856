"""Replenishment in Chromium: a manager sets reorder points and targets on the console's "Replenishment" page, sees
what to order and the suggested transfer, approves it (in transit on the stock page) and the warehouse receives it.
Photographed into docs/screenshots/ (replenishment-*, English and Arabic); no page may break its
Content-Security-Policy or throw."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from dawra.adapters.dynamo.inventory import DynamoInventory

from .conftest import DESKTOP, MOBILE, signed_in


def set_plan(page: Page, location: str, reorder_point: int, target: int) -> None:
    form = page.get_by_test_id("form-plan")
    form.locator("input[name=sku]").fill("DALLAH-BRASS")
    form.locator("input[name=location]").fill(location)
    form.locator("input[name=reorder_point]").fill(str(reorder_point))
    form.locator("input[name=target]").fill(str(target))
    form.locator("input[name=reason]").fill("seasonal minimum")
    form.locator("button").click()
    page.wait_for_url(re.compile(r"done=set_plan"))


def test_a_manager_plans_and_approves_a_suggested_transfer_which_the_warehouse_receives(world, chromium, screenshots):
    manager = signed_in(chromium, world, "manager", DESKTOP, "en")
    try:
        page = manager.page
        page.click("nav a[href$='/admin/replenishment']")
        page.wait_for_url(re.compile(r"/admin/replenishment"))
        # The dallah is kept at jeddah-store only: riyadh-dc gets 20, 10 above the target set below.
        DynamoInventory(world.stack.cloud.resolve_ref("table", "inventory", "name")).set_stock(
            "DALLAH-BRASS", "riyadh-dc", 20)
        set_plan(page, "jeddah-store", 50, 60)  # far under: order up to 60
        set_plan(page, "riyadh-dc", 5, 10)  # 10 above its target
        reorder = page.get_by_test_id("reorder").locator("tr[data-sku='DALLAH-BRASS'][data-location='jeddah-store']")
        expect(reorder).to_be_visible()
        row = page.get_by_test_id("suggested").locator(
            "tr[data-sku='DALLAH-BRASS'][data-from='riyadh-dc'][data-to='jeddah-store']")
        expect(row).to_contain_text("10")
        manager.shoot("replenishment-report-en", screenshots)
        row.locator("button").click()
        page.wait_for_url(re.compile(r"done=approve_transfer"))
        expect(page.locator("main")).to_contain_text("The transfer was sent")
        expect(page.get_by_test_id("suggested").locator("tr[data-sku='DALLAH-BRASS']")).to_have_count(0)
    finally:
        manager.close()

    phone = signed_in(chromium, world, "manager", MOBILE, "ar")
    try:
        phone.page.goto("/admin/replenishment")
        expect(phone.page.locator("html")).to_have_attribute("dir", "rtl")
        expect(phone.page.locator("main")).to_contain_text("دون حد إعادة الطلب")
        phone.shoot("replenishment-report-ar", screenshots)
    finally:
        phone.close()

    warehouse = signed_in(chromium, world, "warehouse", DESKTOP, "en")
    try:
        page = warehouse.page
        page.goto("/admin/stock?sku=DALLAH-BRASS")
        in_transit = page.locator("tr[data-sku='DALLAH-BRASS'][data-location='jeddah-store']")
        expect(in_transit).to_have_attribute("data-in-transit", "10")
        page.locator("form[action$='/stock/receive'] button").first.click()
        page.wait_for_url(re.compile(r"done=receive"))
        expect(in_transit).to_have_attribute("data-in-transit", "0")
        warehouse.shoot("replenishment-received-en", screenshots)
    finally:
        warehouse.close()
