"""A return in Chromium, end to end on the local stack: a customer opens the link from the local outbox on their
delivered order, on a phone in Arabic (right to left), asks to return an item (the form, the review with the refund
estimate, the confirmation), downloads the return label as a PDF once the workflow has booked it; the carrier
brings the parcel back; a warehouse user inspects it in the console (sellable) and the refund follows, which the
customer's page then shows. Every step is photographed into docs/screenshots/ (return-*), and no page may overflow a
phone's width, break its Content-Security-Policy or throw."""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from dawra.local.actors import SandboxCarrierSimulator, Storefront
from dawra.local.demo import customer

from .conftest import DESKTOP, MOBILE, Browser, seeded_local_stack

LINK = re.compile(r"http://127\.0\.0\.1:\d+/my-order/[A-Za-z0-9_-]{52}")


@dataclass
class Shop:
    stack: Any
    passwords: dict[str, str]

    @property
    def url(self) -> str:
        return str(self.stack.gateway_url)


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    """The local stack as `make up` runs it: catalog, stock, one operator per role."""
    from dawra.local.seed import seed_operators

    with seeded_local_stack() as stack:
        yield Shop(stack, {o.username: o.password for o in seed_operators(stack.cloud)})


def until(what: str, found: Callable[[], Any], seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def as_storefront(shop: Shop, token: str) -> dict[str, Any]:
    """The order as GET /customer/order answers a storefront (the link's token as a bearer token)."""
    request = urllib.request.Request(f"{shop.url}/customer/order", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.loads(answer.read()))


def as_storefront_email(shop: Shop, token: str) -> str:
    """The order's email (the page masks it; the outbox is addressed in full): found by the link it carries."""
    return next(m.to for m in shop.stack.outbox() if token in m.body and "@" in m.to)


def delivered_order(shop: Shop) -> tuple[str, str]:
    """An order of a prayer mat (the default return policy: 14 days, no approval) placed in Arabic, shipped and
    delivered; its id and the link from its messages in the outbox."""
    email = f"return-{uuid.uuid4().hex[:8]}@example.com"
    store = Storefront(shop.url)
    placed = store.place_order({"customer_id": "cust-return", **customer("سارة العتيبي", email, language="ar"),
                                "lines": [{"sku": "PRAYER-MAT", "quantity": 1}],
                                "payment_token": "tok_sandbox_approve"}, f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    order = until("the parcel's label", lambda: (o := store.get_order(order_id).body)["shipments"] and all(
        s["tracking_number"] for s in o["shipments"]) and o)
    carrier = SandboxCarrierSimulator(shop.url, shop.stack.cloud.carrier_secrets["carrier-sandbox-webhook"])
    for shipment in order["shipments"]:
        carrier.deliver(shipment["tracking_number"])
    store.wait_for(order_id, {"COMPLETED"})
    link = until("a message with the link", lambda: next(
        (LINK.search(m.body)[0] for m in shop.stack.outbox() if m.to == email and LINK.search(m.body)), None))
    return order_id, link


def on_a_phone_in_arabic(chromium: Any, link: str) -> Browser:
    """The customer's order page from the link in their message, on a phone in Arabic: right to left."""
    you = Browser(chromium, MOBILE, "ar-SA")
    you.page.goto(link)
    expect(you.page.locator("html")).to_have_attribute("dir", "rtl")
    return you


def test_a_customer_returns_an_item_in_arabic_and_the_warehouse_inspects_it(chromium, shop, screenshots, tmp_path):
    order_id, link = delivered_order(shop)
    token = link.rsplit("/", 1)[-1]
    you = on_a_phone_in_arabic(chromium, link)
    page = you.page
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-stage", "delivered")
    page.click("[data-testid=start-return]")

    # The form: the prayer mat may go back (one), with a reason and a comment; a label to print; to the card.
    form = page.locator("form[data-testid=return-form]")
    expect(form).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    line = form.locator("[data-testid=return-line][data-sku=PRAYER-MAT]")
    line.locator("select[data-testid=return-qty]").select_option("1")
    line.locator("select[data-testid=return-reason]").select_option("wrong_size")
    line.locator("textarea").fill("المقاس أصغر من المتوقع <b>قليلاً</b>")
    expect(form.locator("input[name=method][value=label]")).to_be_checked()
    you.shoot("return-form-mobile-ar", screenshots)
    form.locator("[data-testid=return-review-submit]").click()

    review = page.locator("[data-testid=return-review]")
    expect(review).to_be_visible()
    expect(review.locator("[data-testid=review-line]")).to_contain_text("<b>قليلاً</b>")  # as typed, as text
    expect(review.locator("[data-testid=estimate-total]")).to_be_visible()
    estimate = review.locator("[data-testid=estimate-total]").inner_text()
    you.shoot("return-review-mobile-ar", screenshots)
    review.locator("[data-testid=return-confirm]").click()
    page.wait_for_url(re.compile(r"done=return_requested"))
    expect(page.locator("[data-testid=notice]")).to_be_visible()
    section = page.locator("[data-testid=return]")
    expect(section).to_have_count(1)
    [ret] = as_storefront(shop, token)["returns"]
    assert ret["status"] in ("approved", "label_issued") and ret["lines"][0]["comment"].endswith("</b>")

    # The workflow books the label; the page offers it once it exists.
    until("the return label", lambda: as_storefront(shop, token)["returns"][0]["label_available"], 60)
    page.reload()
    download_link = page.locator("[data-testid=return-label]")
    expect(download_link).to_be_visible()
    # The link goes to the return label's own HTTP API (decision 78), the path it has on AWS, not the page's gateway.
    label_api = shop.stack.http_apis["return-label-api"].url
    assert download_link.get_attribute("href").startswith(f"{label_api}/my-order/")
    expect(section.locator("[data-testid=return-estimate]")).to_have_text(estimate)
    you.shoot("return-label-ready-mobile-ar", screenshots)
    with page.expect_download() as downloading:
        download_link.click()
    saved = tmp_path / "label.pdf"
    downloading.value.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-" and saved.read_bytes().rstrip().endswith(b"%%EOF")
    assert downloading.value.suggested_filename == \
        f"return-{ret['return_id']}.pdf"
    label = as_storefront(shop, token)["returns"][0]

    # The parcel travels back and arrives (the carrier's webhooks on the return's own tracking number).
    carrier = SandboxCarrierSimulator(shop.url, shop.stack.cloud.carrier_secrets["carrier-sandbox-webhook"])
    carrier.report(label["tracking_number"], "PICKED_UP", "IN_TRANSIT", "DELIVERED")
    until("the return received", lambda: as_storefront(shop, token)["returns"][0]["status"] == "received", 60)

    # The warehouse inspects it in the console: sellable.
    warehouse = Browser(chromium, DESKTOP, "en-US", shop.url)
    desk = warehouse.page
    desk.goto("/admin/signin")
    desk.fill("input[name=username]", "warehouse")
    desk.fill("input[name=password]", shop.passwords["warehouse"])
    desk.click("form[data-testid=signin-form] button[type=submit]")
    desk.wait_for_url(re.compile(r"/admin/(orders|audit)"))
    desk.goto(f"/admin/orders/{order_id}#return-{ret['return_id']}")
    inspect = desk.locator("form[data-testid=form-inspect-return]")
    expect(inspect).to_be_visible()
    inspect.locator("select[name='outcome.PRAYER-MAT']").select_option("sellable")
    warehouse.shoot("return-console-inspect-en", screenshots)
    inspect.locator("button").click()
    desk.wait_for_url(re.compile(r"done=inspect_return"))
    expect(desk.locator("[data-testid=notice]")).to_be_visible()
    until("the refund", lambda: as_storefront(shop, token)["returns"][0]["status"] in ("refunded", "closed"), 60)
    desk.reload()
    expect(desk.locator("[data-testid=return-refunded]")).to_be_visible()
    warehouse.shoot("return-console-refunded-en", screenshots)
    warehouse.close()

    page.reload()
    expect(section.locator("[data-testid=return-refunded]")).to_be_visible()
    expect(page.locator("[data-testid=return-label]")).to_have_count(0)  # used: no longer offered
    you.shoot("return-refunded-mobile-ar", screenshots)
    you.close()
    # What the customer was told, in Arabic, each step once: the request, the label (with the way to the page's
    # return section), the parcel received, the refund.
    ref = "#" + order_id[4:12].upper()
    told = [m.subject for m in shop.stack.outbox() if m.to == as_storefront_email(shop, token)]
    assert [s for s in told if "إرجاع" in s or "مرتجع" in s or "استرداد" in s] == [
        f"طلب الإرجاع الخاص بطلبك {ref}", f"ملصق الإرجاع لطلبك {ref} جاهز", f"استلمنا المرتجع من طلبك {ref}",
        f"استرداد المبلغ لطلبك {ref}"]
    label_mail = next(m.body for m in shop.stack.outbox() if "جاهز" in m.subject and ref in m.subject)
    assert f"#return-{ret['return_id']}" in label_mail
