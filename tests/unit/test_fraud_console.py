"""Fraud review in the operators' console on the in-memory shop: the review queue (oldest first, the rules' reasons
in the operator's language) and the refusals of the day, the order page's hold and reasons, approve and reject for
an agent (audited, through the transition table), neither for the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from console_desk import KEY, Log, post
from fakes import FakeAuditLog, FakeOrderHistory, FakeRiskRecords, request

from dawra.app.backoffice import CheckoutRefusals, HeldOrders, OrderActions, ViewOrderFile
from dawra.app.risk import RiskScreening
from dawra.domain.errors import RefusedByRiskScreening
from dawra.domain.order import OrderStatus
from dawra.domain.risk import default_rules
from dawra.web.console import Console
from dawra.web.http import WebRequest
from dawra.web.security import SESSION_COOKIE

CLAIMS = {"agent": {"sub": "u-agent", "cognito:username": "agent", "cognito:groups": "agent", "iat": 1,
                    "custom:locale": "ar"},
          "warehouse": {"sub": "u-wh", "cognito:username": "warehouse", "cognito:groups": "warehouse", "iat": 1}}


@dataclass(frozen=True)
class Office:
    view_order: ViewOrderFile
    actions: OrderActions
    held_orders: HeldOrders
    refusals: CheckoutRefusals


@pytest.fixture
def desk(shop: Any) -> Console:
    audit = FakeAuditLog(shop.world)
    records = FakeRiskRecords(shop.world)
    shop.checkout.screening = RiskScreening(default_rules(), lambda: b"k" * 32, records, shop.clock)
    actions = OrderActions(shop.orders, shop.inventory, shop.uow, audit, shop.workflow, shop.payments, shop.clock,
                           release_stock=shop.release, cancel_order=shop.cancel)
    office = Office(ViewOrderFile(shop.orders, audit), actions, HeldOrders(FakeOrderHistory(shop.world)),
                    CheckoutRefusals(records))
    return Console(office, lambda token: CLAIMS[token], lambda *_: None, lambda: KEY, Log())  # type: ignore[arg-type]


def get(console: Console, who: str, path: str) -> Any:
    return console.handle(WebRequest("GET", path, cookies={SESSION_COOKIE: who}))


def held_for_review(shop: Any) -> str:
    order = shop.checkout.place_order("key-console-review", request({"MUG-CLASSIC": 1}, billing_address={
        "name": "Sara", "line1": "1 Rd", "city": "Dubai", "country": "AE"}))
    shop.reserve(order.order_id)
    return order.order_id


def test_the_queue_lists_held_orders_with_their_reasons_and_the_days_refusals(desk, shop):
    order_id = held_for_review(shop)
    with pytest.raises(RefusedByRiskScreening):
        shop.checkout.place_order("key-console-refused", request({"MUG-CLASSIC": 1}, shipping_address={
            "name": "X", "line1": "1 St", "city": "Riyadh", "country": "SA", "postal_code": "99999"}))
    body = desk.handle(WebRequest("GET", "/admin/reviews", query={"day": [shop.clock.now().date().isoformat()]},
                                  cookies={SESSION_COOKIE: "agent"})).body
    assert f'data-order-id="{order_id}"' in body and "بلد الفوترة يختلف عن بلد الشحن" in body  # Arabic: theirs
    assert 'data-testid="refusals"' in body and "رمز بريدي للشحن لا يوصل إليه المتجر" in body
    assert "sara@example.com" not in body  # a refusal shows digests, never the contact
    assert get(desk, "warehouse", "/admin/reviews").status == 403


def test_an_agent_approves_from_the_order_page_and_the_warehouse_sees_no_such_form(desk, shop):
    order_id = held_for_review(shop)
    page = get(desk, "agent", f"/admin/orders/{order_id}").body
    assert 'data-testid="hold-kind"' in page and 'data-testid="form-reject"' in page
    assert "risk.billing_country_mismatch" in page
    assert 'data-testid="form-release"' not in get(desk, "warehouse", f"/admin/orders/{order_id}").body
    assert post(desk, "warehouse", f"/admin/orders/{order_id}/release", "key-wh-approve", None,
                {"reason": "fine"}).status == 403
    done = post(desk, "agent", f"/admin/orders/{order_id}/release", "key-approve-01", None, {"reason": "genuine"})
    assert done.status == 303 and shop.orders.get(order_id).status == OrderStatus.ALLOCATED


def test_an_agent_rejects_and_the_order_is_cancelled_with_the_reviews_reason(desk, shop):
    order_id = held_for_review(shop)
    assert post(desk, "agent", f"/admin/orders/{order_id}/reject", "key-reject-01", None, {}).status == 422
    done = post(desk, "agent", f"/admin/orders/{order_id}/reject", "key-reject-02", None,
                {"reason": "stolen card"})
    assert done.status == 303 and shop.orders.get(order_id).cancellation_as == "RejectedInReview"
    again = post(desk, "agent", f"/admin/orders/{order_id}/release", "key-approve-02", None, {"reason": "oops"})
    assert again.status == 409  # being cancelled
