"""Returns in the operators' console (dawra/web/console.py) with the returns use cases on the in-memory shop: each
order's returns on its page, the forms each role and status allow (an agent decides requests that need approval,
the warehouse takes store drop-offs in and inspects), every action behind the session's CSRF token, audited, once
per form key, and a role that may not act answered 403."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from console_desk import console_for, page, post
from returning import Returns, asking, delivered

from dawra.domain.returns import RefundMethod, ReturnMethod, ReturnReason
from dawra.web.console import Console
from dawra.web.http import WebRequest
from dawra.web.security import SESSION_COOKIE


@dataclass(frozen=True)
class ConsoleReturns:
    decide: Any
    receive: Any
    inspect: Any


@pytest.fixture
def desk(shop: Any) -> tuple[Console, Returns]:
    uses = Returns(shop)
    return console_for(shop, uses.audit, ConsoleReturns(uses.decide, uses.receive, uses.inspect)), uses


def act(console: Console, who: str, order_id: str, return_id: str, action: str, key: str = "key-console-01",
        csrf: str | None = None, **fields: str) -> Any:
    return post(console, who, f"/admin/orders/{order_id}/returns/{return_id}/{action}", key, csrf, fields)


def a_request_to_decide(shop: Any, uses: Returns) -> tuple[str, str]:
    order_id = delivered(shop, {"DALLAH-BRASS": 1})
    ret = uses.request(order_id, "key-return-0001", asking({"DALLAH-BRASS": (1, ReturnReason.CHANGED_MIND)},
                                                           method=ReturnMethod.STORE, location="jeddah-store",
                                                           refund=RefundMethod.STORE_CREDIT))
    return order_id, ret.return_id


def test_an_agent_sees_the_request_and_approves_it_once(desk, shop):
    console, uses = desk
    order_id, return_id = a_request_to_decide(shop, uses)
    body = page(console, "agent", order_id).body
    assert f'id="return-{return_id}"' in body and 'data-status="requested"' in body
    assert 'data-testid="form-approve-return"' in body and 'data-testid="form-inspect-return"' not in body
    assert 'data-testid="form-approve-return"' not in page(console, "warehouse", order_id).body  # not theirs
    done = act(console, "agent", order_id, return_id, "approve")
    again = act(console, "agent", order_id, return_id, "approve")  # a double submit of the same form
    assert done.status == again.status == 303
    assert done.headers["Location"] == f"/admin/orders/{order_id}?done=approve_return#return-{return_id}"
    assert uses.get(order_id, return_id).status.value == "approved"
    entries = [e for e in uses.audit.for_subject(f"order:{order_id}") if e.action == "approve_return"]
    assert len(entries) == 1 and entries[0].actor_id == "u-agent"
    assert "The return is approved" in console.handle(WebRequest(
        "GET", f"/admin/orders/{order_id}", query={"done": ["approve_return"]},
        cookies={SESSION_COOKIE: "agent"})).body


def test_a_decline_needs_a_reason_and_the_warehouse_may_not_decide(desk, shop):
    console, uses = desk
    order_id, return_id = a_request_to_decide(shop, uses)
    assert act(console, "agent", order_id, return_id, "decline").status == 422  # no reason
    forbidden = act(console, "warehouse", order_id, return_id, "approve")
    assert forbidden.status == 403
    assert act(console, "agent", order_id, return_id, "approve", csrf="forged").status == 403
    assert uses.get(order_id, return_id).status.value == "requested"
    declined = act(console, "agent", order_id, return_id, "decline", reason="<b>used</b>, not resellable")
    assert declined.status == 303 and uses.get(order_id, return_id).decline_reason == "<b>used</b>, not resellable"
    body = page(console, "agent", order_id).body
    assert "&lt;b&gt;used&lt;/b&gt;" in body and "<b>used</b>" not in body
    assert act(console, "agent", order_id, return_id, "approve", key="key-console-02").status == 409  # decided


def test_the_warehouse_takes_a_drop_off_in_and_inspects_each_line(desk, shop):
    console, uses = desk
    order_id, return_id = a_request_to_decide(shop, uses)
    act(console, "agent", order_id, return_id, "approve")
    uses.issue_label(order_id, return_id)  # a store drop-off: no label, the store waits for it
    body = page(console, "warehouse", order_id).body
    assert 'data-testid="form-receive-return"' in body
    assert act(console, "agent", order_id, return_id, "receive").status == 403  # an agent is not the warehouse
    assert act(console, "warehouse", order_id, return_id, "receive").status == 303
    body = page(console, "warehouse", order_id).body
    assert 'data-testid="form-inspect-return"' in body and 'name="outcome.DALLAH-BRASS"' in body
    before = shop.stock("DALLAH-BRASS", "jeddah-store").on_hand
    no_note = act(console, "warehouse", order_id, return_id, "inspect", outcome__DALLAH_BRASS="x")
    assert no_note.status == 422
    damaged = act(console, "warehouse", order_id, return_id, "inspect", **{"outcome__DALLAH-BRASS": "damaged"})
    assert damaged.status == 422 and "say what was found" in damaged.body  # a note is required
    done = act(console, "warehouse", order_id, return_id, "inspect",
               **{"outcome__DALLAH-BRASS": "sellable", "note__DALLAH-BRASS": ""})
    assert done.status == 303 and uses.get(order_id, return_id).status.value == "inspected"
    assert shop.stock("DALLAH-BRASS", "jeddah-store").on_hand == before + 1  # back on hand where it arrived
    [entry] = [e for e in uses.audit.for_subject(f"order:{order_id}") if e.action == "inspect_return"]
    assert entry.actor_id == "u-wh"
    assert re.search(r'data-testid="return-lines".*?Sellable', page(console, "agent", order_id).body, re.S)


def test_the_order_page_shows_an_exchanges_replacement_row_and_a_pickups_day(desk, shop):
    from datetime import date

    from dawra.domain.money import Money
    from dawra.domain.pricing import CatalogItem
    from dawra.domain.returns import PickupSlot, PickupWindow, ReturnRequest

    console, uses = desk
    mat = shop.world.catalog["PRAYER-MAT"]
    shop.world.catalog["PRAYER-MAT"] = mat.model_copy(update={"exchangeable_for": ("PRAYER-MAT-L",)})
    shop.world.catalog["PRAYER-MAT-L"] = CatalogItem(sku="PRAYER-MAT-L", title="Prayer mat, large",
                                                     unit_price=Money(amount=12000, currency="SAR"), weight_g=1100)
    shop.world.set_stock("PRAYER-MAT-L", "riyadh-dc", 2)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    asked = asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}, method=ReturnMethod.PICKUP,
                   refund=RefundMethod.EXCHANGE)
    ret = uses.request(order_id, "key-console-exchange", ReturnRequest(
        lines=asked.lines, method=asked.method, refund_method=asked.refund_method, location_id=asked.location_id,
        exchanges={"PRAYER-MAT": "PRAYER-MAT-L"},
        pickup=PickupSlot(day=date(2026, 11, 25), window=PickupWindow.MORNING)))
    body = page(console, "warehouse", order_id).body
    section = re.search(rf'id="return-{ret.return_id}".*?</section>', body, re.S)[0]
    row = re.search(r'data-testid="return-replacement">(.*?)</dd>', section, re.S)[1]
    assert ret.replacement_id in row and "riyadh-dc" in row  # the held replacement, where it leaves from
    assert re.search(r'data-testid="return-exchange">[^<]*<span dir="ltr">PRAYER-MAT-L</span>', section)
    assert re.search(r'data-testid="return-pickup">Nov 25, 2026 \(morning, 9:00\u201313:00\)<', section)
