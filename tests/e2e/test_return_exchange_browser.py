"""An exchange collected by a courier, in Chromium on the local stack: on a phone in Arabic (right to left) a customer
asks for the prayer mat's large size instead of their mat ("another size"), chooses a courier pickup on one of the
days the carrier offers (dates in Arabic, babel's words), reviews it ("nothing to pay and nothing refunded", the
courier's day) and confirms; the workflow holds the large mat and books the courier for that day, and the order
page then says when the courier comes. Photographed into docs/screenshots/ (return-exchange-mobile-ar.png,
return-pickup-mobile-ar.png); no page may overflow a phone's width, break its Content-Security-Policy or throw."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .test_return_browser import (
    Shop,
    as_storefront,
    as_storefront_email,
    delivered_order,
    on_a_phone_in_arabic,
    until,
)
from .test_return_browser import shop as plain_shop  # noqa: F401 - the local stack, seeded as `make up` seeds it


@pytest.fixture(scope="module")
def shop(plain_shop: Shop) -> Iterator[Shop]:  # noqa: F811
    """The seeded stack, with the prayer mat's large size in the catalog (same price) and in stock."""
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.domain.pricing import CatalogItem
    from dawra.local.seed import CATALOG

    inventory = DynamoInventory(plain_shop.stack.cloud.resolve_ref("table", "inventory", "name"))
    [mat] = [item for item in CATALOG if item.sku == "PRAYER-MAT"]
    inventory.put_catalog_item(mat.model_copy(update={"exchangeable_for": ("PRAYER-MAT-L",)}))
    inventory.put_catalog_item(CatalogItem(sku="PRAYER-MAT-L", title="Prayer mat, large",
                                           titles={"ar": "سجادة صلاة كبيرة"}, unit_price=mat.unit_price,
                                           weight_g=1100, category="textiles"))
    inventory.set_stock("PRAYER-MAT-L", "riyadh-dc", 3)
    yield plain_shop


def test_a_customer_exchanges_for_another_size_collected_by_a_courier_in_arabic(chromium, shop, screenshots):
    order_id, link = delivered_order(shop)
    token = link.rsplit("/", 1)[-1]
    you = on_a_phone_in_arabic(chromium, link)
    page: Any = you.page
    page.click("[data-testid=start-return]")

    form = page.locator("form[data-testid=return-form]")
    line = form.locator("[data-testid=return-line][data-sku=PRAYER-MAT]")
    line.locator("select[data-testid=return-qty]").select_option("1")
    line.locator("select[data-testid=return-reason]").select_option("wrong_size")
    another = line.locator("select[data-testid=return-exchange]")
    expect(another.locator("option[value=PRAYER-MAT-L]")).to_have_text("سجادة صلاة كبيرة")
    another.select_option("PRAYER-MAT-L")
    form.locator("input[name=method][value=pickup]").check()
    days = form.locator("select[data-testid=return-pickup] option")
    assert days.count() == 10  # five days, morning and afternoon
    chosen = days.nth(3)  # the second day, afternoon
    day_text, day_key = chosen.inner_text(), chosen.get_attribute("value")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}\.afternoon", day_key or "")
    assert "بعد الظهر" in day_text and re.search(r"(الأحد|الاثنين|الثلاثاء|الأربعاء|الخميس|السبت)،", day_text)
    assert "الجمعة" not in form.locator("select[data-testid=return-pickup]").inner_text()  # no Friday pickups
    form.locator("select[data-testid=return-pickup]").select_option(day_key)
    form.locator("input[name=refund_method][value=exchange]").check()
    form.locator("[data-testid=return-review-submit]").click()

    review = page.locator("[data-testid=return-review]")
    expect(review).to_be_visible()
    expect(review.locator("[data-testid=estimate-exchange]")).to_be_visible()  # nothing to pay or refund
    expect(review.locator("[data-testid=estimate]")).to_have_count(0)
    expect(review.locator("[data-testid=review-exchange]")).to_contain_text("سجادة صلاة كبيرة")
    expect(review.locator("[data-testid=review-pickup]")).to_have_text(day_text)
    you.shoot("return-exchange-mobile-ar", screenshots)
    review.locator("[data-testid=return-confirm]").click()
    page.wait_for_url(re.compile(r"done=return_requested"))

    # The policy approves at once: the large mat is held, and the workflow books the label with the courier.
    until("the return label", lambda: as_storefront(shop, token)["returns"][0]["label_available"], 60)
    [ret] = as_storefront(shop, token)["returns"]
    assert (ret["refund_method"], ret["lines"][0]["exchange_sku"]) == ("exchange", "PRAYER-MAT-L")
    assert f"{ret['pickup_on']}.{ret['pickup_window']}" == day_key and ret["replacement_shipment_id"]
    page.reload()
    section = page.locator("[data-testid=return]")
    expect(section.locator("[data-testid=return-pickup]")).to_have_text(day_text)
    expect(section.locator("[data-testid=return-exchange]")).to_contain_text("سجادة صلاة كبيرة")
    expect(section.locator("li[data-kind=return_label_issued] [data-testid=timeline-pickup]")).to_contain_text(
        day_text)  # the booking's day, on the return's own timeline
    expect(section.locator("[data-testid=return-label]")).to_be_visible()
    you.shoot("return-pickup-mobile-ar", screenshots)
    you.close()

    # The "label ready" message says, in Arabic, when the courier comes.
    ref = "#" + order_id[4:12].upper()
    email = as_storefront_email(shop, token)
    [label_mail] = [m for m in shop.stack.outbox() if m.to == email and m.subject == f"ملصق الإرجاع لطلبك {ref} جاهز"]
    assert "سيأتي مندوب لاستلامه يوم" in label_mail.body and "بعد الظهر" in label_mail.body
