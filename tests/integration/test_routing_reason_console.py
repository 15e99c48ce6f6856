"""Routing over the embedded cloud: an order placed through the storefront is reserved by the state machine's
ReserveStock, and the console's order page says on its timeline where its stock was reserved and why, in English and
in Arabic (the reason travels on the stock reservation's timeline event: dawra.domain.routing)."""

from __future__ import annotations

import html
import re
import urllib.request
import uuid

import pytest
from stacks import eventually

from dawra.local.actors import Storefront
from dawra.local.scenario import sign_in
from dawra.local.seed import create_operator
from dawra.web.security import SESSION_COOKIE


def order_page(base: str, token: str, order_id: str) -> str:
    request = urllib.request.Request(f"{base}/admin/orders/{order_id}",
                                     headers={"Cookie": f"{SESSION_COOKIE}={token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return response.read().decode()


def routing_reason(page: str) -> str | None:
    found = re.search(r'data-testid="routing-reason"><bdi>(.*?)</bdi>', page, re.S)
    return html.unescape(found.group(1)) if found else None


def reserved_page(base: str, token: str, order_id: str) -> str:
    """The order's page once the state machine has reserved its stock (its reason is then on the timeline)."""
    def reserved() -> str | None:
        page = order_page(base, token, order_id)
        return page if routing_reason(page) else None

    page = eventually(reserved, timeout_s=60, every_s=0.5)
    assert page, "no routing reason on the timeline"
    return str(page)


def place(store: Storefront, lines: dict[str, int], city: str) -> str:
    body = {"customer_id": "cust-routing", "contact": {"email": "routing@example.com"},
            "shipping_address": {"name": "Sara", "line1": "1 Tahlia St", "city": city, "country": "SA"},
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines.items()],
            "payment_token": "tok_sandbox_approve"}
    placed = store.place_order(body, f"routing-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    order_id: str = placed.body["order_id"]
    return order_id


@pytest.fixture(scope="module")
def tokens(local_stack):
    found = {}
    for locale in ("en", "ar"):
        username = f"routing-agent-{locale}-{uuid.uuid4().hex[:6]}"
        person = create_operator(local_stack.cloud, username, f"{username}@dawra.example", ("agent",), locale=locale)
        found[locale] = sign_in(local_stack, person)
    return found


def test_an_orders_routing_reason_is_on_its_console_timeline(local_stack, tokens):
    store = Storefront(local_stack.gateway_url)
    base = local_stack.gateway_url
    # The brass dallah is only in Jeddah: one location has every item.
    single = place(store, {"DALLAH-BRASS": 1}, "Jeddah")
    assert routing_reason(reserved_page(base, tokens["en"], single)) == (
        "All items from Jeddah store: the only location with every item")
    assert routing_reason(order_page(base, tokens["ar"], single)) == (
        "جميع المنتجات من Jeddah store: الموقع الوحيد الذي تتوفر فيه كل المنتجات")
    # Dallah (Jeddah only) and dates (Riyadh, Dammam): a split, Riyadh + Jeddah by location priority.
    split = place(store, {"DALLAH-BRASS": 1, "DATES-1KG": 1}, "Dammam")
    page = reserved_page(base, tokens["en"], split)
    assert routing_reason(page) == ("Split across Riyadh distribution centre and Jeddah store: no single location "
                                    "has every item; best location priorities")
    assert page.count('data-testid="routing-reason"') == 1  # on the stock reservation's event only
