"""The console in Chromium, as its operators use it: an agent cancels one line of an order placed by phone and sees the
timeline and the stock follow; a warehouse user cannot refund (no button, and the API says 403); a manager's
operations view shows the figures of the seeded orders. Every page is also photographed in English and Arabic into
docs/screenshots/ (the README shows them), and no page may break its Content-Security-Policy or throw."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dawra.local.actors import AdminApi
from dawra.local.scenario import AGENT_CUSTOMER_PHONE

from .conftest import DESKTOP, MOBILE, World


class Operator:
    """One operator's browser: their own context (cookies), every console error and CSP violation recorded."""

    def __init__(self, chromium: Any, world: World, username: str, viewport: dict[str, int] = DESKTOP):
        self.world, self.username = world, username
        self.context = chromium.new_context(viewport=viewport, locale="en-US", base_url=world.url)
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda message: self.problems.append(message.text)
                     if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))

    def sign_in(self, language: str | None = None) -> Page:
        page = self.page
        page.goto("/admin/signin" + (f"?lang={language}" if language else ""))
        page.fill("input[name=username]", self.username)
        page.fill("input[name=password]", self.world.password(self.username))
        page.click("form[data-testid=signin-form] button[type=submit]")
        page.wait_for_url(re.compile(r"/admin/(orders|audit)"))
        return page

    def language(self, language: str) -> None:
        """Switch with the header's button (a CSRF-checked form) until the page speaks `language`."""
        if self.page.get_attribute("html", "lang") != language:
            self.page.click("[data-testid=switch-language]")
            expect(self.page.locator("html")).to_have_attribute("lang", language)

    def shoot(self, name: str, screenshots: Any) -> None:
        language = self.page.get_attribute("html", "lang")
        self.page.wait_for_load_state("networkidle")
        # Laid out within the viewport in either direction: nothing sticks out sideways (wide tables scroll inside
        # their own box).
        overflow = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} ({language}) is {overflow}px wider than the viewport"
        self.page.screenshot(path=str(screenshots / f"{name}-{language}.png"))

    def close(self) -> None:
        csp = [p for p in self.problems if "Content Security Policy" in p or "Refused to" in p]
        assert csp == [], csp
        self.context.close()
        unexpected = [p for p in self.problems if "status of 4" not in p]  # 403/409 pages are expected answers
        assert unexpected == [], unexpected


@pytest.fixture
def operator(chromium, world) -> Iterator[Any]:
    opened: list[Operator] = []

    def open_as(username: str, viewport: dict[str, int] = DESKTOP) -> Operator:
        opened.append(Operator(chromium, world, username, viewport))
        return opened[-1]

    yield open_as
    for each in opened:
        each.close()


def stock_row(page: Page, sku: str, location: str) -> dict[str, int]:
    page.goto(f"/admin/stock?sku={sku}&location={location}")
    row = page.locator(f"tr[data-sku='{sku}'][data-location='{location}']")
    return {name: int(row.get_attribute(f"data-{name}") or "0") for name in ("on-hand", "reserved", "available")}


def test_an_agent_finds_an_order_by_phone_cancels_a_line_and_sees_the_timeline_and_stock(operator, world):
    agent = operator("agent")
    page = agent.sign_in()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")  # the agent's account says Arabic
    page.evaluate("window.__sameDocument = true")
    page.fill("input[name=phone]", "0" + AGENT_CUSTOMER_PHONE.removeprefix("+966"))  # as the customer says it
    page.click("form[data-testid=order-search] button[type=submit]")
    order_id = world.scenario.on_hold
    expect(page.locator("#results tbody tr")).to_have_count(1)
    row = page.locator(f"tr[data-order-id='{order_id}']")
    expect(row).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # htmx swapped the results in; no page load
    expect(page).to_have_url(re.compile(r"phone=0555123456"))  # and the address bar can be shared

    row.locator("a").click()
    page.wait_for_url(f"**/admin/orders/{order_id}")
    expect(page.locator("[data-testid=order-status] [data-status]")).to_have_attribute("data-status", "ON_HOLD")
    location = page.locator("dl.shipment[data-skus*='DATES-1KG']").first.get_attribute("data-location")
    assert location
    before = stock_row(page, "DATES-1KG", location)

    page.goto(f"/admin/orders/{order_id}")
    form = page.locator("form[data-testid=cancel-line-DATES-1KG]")
    form.locator("input[name=reason]").fill("العميل لا يريد التمر")
    form.locator("button").click()
    page.wait_for_url(re.compile(r"done=cancel-line"))
    expect(page.locator("[data-testid=notice]")).to_be_visible()
    expect(page.locator("tr[data-cancelled-sku='DATES-1KG']")).to_be_visible()
    expect(page.locator("tr[data-sku='DATES-1KG']")).to_have_count(0)
    event = page.locator("[data-testid=timeline] li[data-kind=line_cancelled]")
    expect(event).to_contain_text("DATES-1KG")
    audit = page.locator("[data-testid=audit] li[data-action=cancel_line]")
    expect(audit).to_contain_text("agent")
    expect(audit).to_contain_text("العميل لا يريد التمر")  # the reason is the operators' (the timeline is not)

    after = stock_row(page, "DATES-1KG", location)
    assert after["reserved"] == before["reserved"] - 2 and after["available"] == before["available"] + 2
    assert after["on-hand"] == before["on-hand"]


def test_a_warehouse_user_cannot_refund(operator, world):
    warehouse = operator("warehouse")
    page = warehouse.sign_in()
    order_id = world.scenario.completed[0]
    page.goto(f"/admin/orders/{order_id}")
    expect(page.locator("[data-testid=order-status] [data-status]")).to_have_attribute("data-status", "COMPLETED")
    expect(page.locator("form[data-testid=form-note]")).to_be_visible()
    expect(page.locator("form[data-testid=form-refund]")).to_have_count(0)
    expect(page.locator("a[href='/admin/operations']")).to_have_count(0)

    # Forging the form anyway (with this session's own CSRF token): the console answers 403 and says why.
    csrf = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    answer = page.request.post(f"/admin/orders/{order_id}/refund", form={
        "csrf": csrf, "key": f"k-{uuid.uuid4()}", "amount": "1.00", "reason": "goodwill"})
    assert answer.status == 403 and "refund is not allowed for warehouse" in answer.text()
    # And so does the admin API, with the warehouse user's own ID token.
    api = AdminApi(world.url, world.token("warehouse")).post(
        f"/orders/{order_id}/refunds", {"amount": 100, "reason": "goodwill"}, key=f"k-{uuid.uuid4()}")
    assert api.status == 403 and api.body["code"] == "forbidden"


def test_a_manager_sees_the_operations_figures_of_the_seeded_orders(operator, world):
    manager = operator("manager")
    page = manager.sign_in()
    page.goto("/admin/operations")
    expected = world.scenario.expected_counts
    rows = page.locator("[data-testid=by-status] tr[data-status]")
    shown = {rows.nth(i).get_attribute("data-status"): int(rows.nth(i).get_attribute("data-count") or "0")
             for i in range(rows.count())}
    assert {status: count for status, count in shown.items() if count} == expected
    placed = page.locator("[data-figure=placed]")
    assert int(placed.get_attribute("data-value") or "0") == world.scenario.placed
    cancelled = len(world.scenario.cancelled)
    expect(page.locator("[data-figure=cancellation] .label")).to_contain_text(f"({cancelled} of {world.scenario.placed})")
    expect(page.locator("[data-figure=on_time] .label")).to_contain_text(f"of {len(world.scenario.completed)})")
    # No seeded order was returned: the returns section counts the delivered ones and says there are none.
    orders = page.locator("[data-testid=returns-summary] tr[data-figure=orders]")
    assert (orders.get_attribute("data-count"), orders.get_attribute("data-of")) == ("0", str(len(world.scenario.completed)))
    expect(page.locator("[data-testid=no-returns]")).to_be_visible()
    # The charts drew (Chart.js read the JSON data block; no inline script ran).
    drawn = page.evaluate("['chart-status', 'chart-stages'].map(id => !!window.Chart.getChart(id))")
    assert drawn == [True, True]


PAGES = ("orders", "order", "stock", "operations", "audit", "place-order")


def test_every_page_in_english_and_arabic(operator, world, screenshots):
    for language in ("en", "ar"):
        visitor = operator("manager")
        visitor.page.goto(f"/admin/signin?lang={language}")
        expect(visitor.page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
        visitor.shoot("signin", screenshots)
        manager = operator("manager")
        page = manager.sign_in(language)
        manager.language(language)
        for name in PAGES:
            if name == "audit":  # the agent's trail, from their name on the order's audit trail
                page.goto(f"/admin/orders/{world.scenario.on_hold}")
                page.locator("[data-testid=audit-actor]").first.click()
                expect(page.locator("[data-testid=audit-list] tr[data-action]").first).to_be_visible()
            else:
                page.goto(f"/admin/orders/{world.scenario.on_hold}" if name == "order" else f"/admin/{name}")
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.locator("h1")).to_be_visible()
            manager.shoot(name, screenshots)
        if language == "ar":  # Arabic-Indic digits, by the operator's setting
            page.goto("/admin/operations")
            page.click("[data-testid=switch-digits]")
            expect(page.locator("[data-figure=placed] .value")).to_have_text(
                re.compile("^[\u0660-\u0669]+$"))
            manager.shoot("operations-digits", screenshots)
            page.click("[data-testid=switch-digits]")
    mobile = operator("agent", MOBILE)
    page = mobile.sign_in()
    page.goto(f"/admin/orders/{world.scenario.on_hold}")
    mobile.shoot("order-mobile", screenshots)
