"""A claim without a return in Chromium, end to end on the local stack: on a phone in Arabic (right to left) a
customer whose prayer mat arrived opens "Report a problem with your parcel", chooses the mat, "arrived damaged" and
the money back, and sends it; the order page shows the claim (nothing comes back, waiting for us: 138.00 is over
the standard policy's threshold). An agent settles it in the console with a refund, and the customer's page then
shows the amount given back. Photographed into docs/screenshots/ (claim-form-mobile-ar.png,
claim-settled-mobile-ar.png, console-claim-en.png); no page may overflow its width, break its
Content-Security-Policy or throw."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import DESKTOP
from .test_return_browser import Browser, as_storefront, delivered_order, on_a_phone_in_arabic, shop, until

__all__ = ["shop"]  # the local stack, seeded as `make up` seeds it (a module fixture of the return browser test)


def test_a_customer_reports_a_damaged_parcel_in_arabic_and_an_agent_refunds_it(chromium, shop, screenshots):
    order_id, link = delivered_order(shop)
    token = link.rsplit("/", 1)[-1]
    you = on_a_phone_in_arabic(chromium, link)
    page: Any = you.page
    page.click("[data-testid=start-claim]")

    form = page.locator("form[data-testid=claim-form]")
    expect(form).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    form.locator("input[name=reason][value=arrived_damaged]").check()
    line = form.locator("[data-testid=claim-line][data-sku=PRAYER-MAT]")
    expect(line.locator("select[data-testid=claim-qty] option")).to_have_count(2)  # none or the one delivered
    line.locator("select[data-testid=claim-qty]").select_option("1")
    form.locator("[data-testid=claim-comment]").fill("وصلت السجادة ممزقة من الطرف <i>تماماً</i>")
    form.locator("input[name=remedy][value=refund]").check()
    expect(form.locator("input[name=refund_method][value=original_payment]")).to_be_checked()
    you.shoot("claim-form-mobile-ar", screenshots)
    form.locator("[data-testid=claim-submit]").click()
    page.wait_for_url(re.compile(r"done=claim_opened"))
    expect(page.locator("[data-testid=notice]")).to_be_visible()

    section = page.locator("[data-testid=return]")
    expect(section).to_have_count(1)
    expect(section.locator("[data-testid=claim]")).to_contain_text("لا داعي لإعادة شيء")
    expect(section).to_contain_text("<i>تماماً</i>")  # as typed, as text
    expect(section).to_have_attribute("data-status", "requested")  # over the policy's threshold: we decide
    [claim] = as_storefront(shop, token)["returns"]
    assert (claim["kind"], claim["status"]) == ("claim", "requested")
    expect(page.locator("[data-testid=start-claim]")).to_have_count(0)  # its one unit is claimed

    # An agent refunds it in the console.
    agent = Browser(chromium, DESKTOP, "en-US", shop.url)
    desk = agent.page
    desk.goto("/admin/signin?lang=en")  # the seeded agent reads Arabic; English chosen on the sign-in page
    desk.fill("input[name=username]", "agent")
    desk.fill("input[name=password]", shop.passwords["agent"])
    desk.click("form[data-testid=signin-form] button[type=submit]")
    desk.wait_for_url(re.compile(r"/admin/orders"))
    desk.goto(f"/admin/orders/{order_id}#return-{claim['return_id']}")
    expect(desk.locator("[data-testid=claim]")).to_contain_text("Arrived damaged")
    refund = desk.locator("form[data-testid=form-refund-claim]")
    expect(refund).to_be_visible()
    expect(desk.locator("form[data-testid=form-open-claim]")).to_have_count(0)  # nothing left to report
    agent.shoot("console-claim-en", screenshots)
    refund.locator("button").click()
    desk.wait_for_url(re.compile(r"done=refund_claim"))
    expect(desk.locator("[data-testid=notice]")).to_be_visible()
    agent.close()

    until("the claim refunded", lambda: as_storefront(shop, token)["returns"][0]["status"] in ("refunded", "closed"),
          60)
    page.reload()
    expect(section.locator("[data-testid=return-refunded]")).to_be_visible()
    refunded = as_storefront(shop, token)["returns"][0]["refunded"]
    assert refunded["amount"] >= 13800 and refunded["currency"] == "SAR"  # the mat (120.00 + VAT), more if shipping
    you.shoot("claim-settled-mobile-ar", screenshots)
    you.close()
