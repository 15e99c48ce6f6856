"""An agent reports a claim for a customer on the phone, from the console's order page (dawra/web/console.py): the
customer's claim form (lines, reason, remedy, comment, how money goes back) behind the session's CSRF token and a
form key, the customer's own claim made by the agent (one audit entry with their id, once per key; its policy may
settle it at once), refused for a role that may not, and offered only while something may be claimed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from console_desk import Log, console_for, page, post
from returning import Returns, delivered

from dawra.app.return_claims import ClaimableLines, DecideClaim, RequestClaim, StartClaim
from dawra.domain.returns import ReturnStatus, return_id_for
from dawra.domain.timeline import TimelineKind
from dawra.web.console import Console


@dataclass(frozen=True)
class ConsoleReturns:
    decide: Any
    receive: Any
    inspect: Any
    decide_claim: DecideClaim
    claimable_lines: ClaimableLines
    start_claim: StartClaim


@pytest.fixture
def desk(shop: Any) -> tuple[Console, Returns, Log]:
    uses, log = Returns(shop), Log()
    o, u, c, i = shop.orders, shop.uow, shop.clock, shop.inventory
    returns = ConsoleReturns(uses.decide, uses.receive, uses.inspect, DecideClaim(o, u, uses.audit, shop.workflow, c, i),
                             ClaimableLines(o, c), StartClaim(RequestClaim(o, u, c, i, audit=uses.audit),
                                                              shop.workflow))
    return console_for(shop, uses.audit, returns, log), uses, log


def report(console: Console, who: str, order_id: str, key: str = "key-claim-0001", csrf: str | None = None,
           **fields: str) -> Any:
    return post(console, who, f"/admin/orders/{order_id}/claims", key, csrf, fields)


DAMAGED_MAT = {"reason": "arrived_damaged", "qty__PRAYER-MAT": "1", "remedy": "reship",
               "refund_method": "original_payment", "comment": "Customer on the phone: <b>torn</b> at one corner"}


def test_an_agent_reports_a_claim_for_the_customer_once_audited_with_their_id(desk, shop):
    console, uses, log = desk
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    body = page(console, "agent", order_id).body
    assert 'data-testid="form-open-claim"' in body and 'name="qty.PRAYER-MAT"' in body
    assert 'value="arrived_damaged"' in body and 'value="reship"' in body and 'value="original_payment"' in body

    done = report(console, "agent", order_id, **DAMAGED_MAT)
    again = report(console, "agent", order_id, **DAMAGED_MAT)  # a double submit of the same form
    claim_id = return_id_for(order_id, "key-claim-0001")
    assert done.status == again.status == 303
    assert done.headers["Location"] == f"/admin/orders/{order_id}?done=open_claim#return-{claim_id}"
    order = shop.orders.get(order_id)
    [claim] = order.returns
    assert (claim.return_id, claim.kind.value, claim.status) == (claim_id, "claim", ReturnStatus.REQUESTED)
    assert claim.claim_remedy.value == "reship" and claim.lines[0].comment.endswith("<b>torn</b> at one corner")
    assert shop.workflow.started_returns == [(order_id, claim_id)]  # the same claim: its workflow started once
    [entry] = [e for e in uses.audit.for_subject(f"order:{order_id}") if e.action == "open_claim"]
    assert (entry.actor_id, entry.after["return_id"], entry.after["claim_remedy"]) == ("u-agent", claim_id, "reship")
    [opened] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.CLAIM_OPENED]
    assert opened.detail["by"] == "agent" and opened.detail["by_itself"] == "false"  # 138.00: an agent decides
    assert ("console action", {"action": "open_claim"}) in log.lines
    assert not any("torn" in str(line) for line in log.lines)  # what the customer said is never logged

    after = page(console, "agent", order_id).body
    assert 'data-testid="form-open-claim"' not in after  # its one unit is claimed: nothing more to report
    assert 'data-testid="form-reship-claim"' in after and "&lt;b&gt;torn&lt;/b&gt;" in after
    assert "Claim reported for the customer" in after  # the audit trail names the action
    assert "Reason: <bdi>Arrived damaged</bdi>" in after  # the timeline says the reason in words
    assert ">Waiting for a decision</span>" in after  # a claim is decided, not approved


def test_a_small_claim_reported_by_an_agent_settles_by_itself_as_the_customers_own(desk, shop):
    console, _, _ = desk
    order_id = delivered(shop, {"MUG-CLASSIC": 2})
    done = report(console, "agent", order_id, reason="item_missing", remedy="refund", refund_method="original_payment",
                  **{"qty__MUG-CLASSIC": "1"})
    assert done.status == 303
    [claim] = shop.orders.get(order_id).returns
    assert (claim.status, claim.decided_by, claim.refunded.amount) == (ReturnStatus.REFUNDED, "policy", 5175)


def test_the_form_is_checked_field_by_field_and_nothing_is_written(desk, shop):
    console, _, _ = desk
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    too_many = report(console, "agent", order_id, **{**DAMAGED_MAT, "qty__PRAYER-MAT": "2"})
    assert too_many.status == 422 and "Choose a number of units the item may be claimed for." in too_many.body
    nothing = report(console, "agent", order_id, **{**DAMAGED_MAT, "qty__PRAYER-MAT": "0", "reason": "lost"})
    assert nothing.status == 422
    assert "Choose at least one item." in nothing.body and "Choose what happened." in nothing.body
    no_key = report(console, "agent", order_id, key="short", **DAMAGED_MAT)
    assert no_key.status == 422
    assert shop.orders.get(order_id).returns == [] and shop.workflow.started_returns == []


def test_a_role_that_may_not_a_forged_form_and_a_closed_window_are_refused(desk, shop):
    console, _, _ = desk
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    assert 'data-testid="form-open-claim"' not in page(console, "warehouse", order_id).body
    assert report(console, "warehouse", order_id, **DAMAGED_MAT).status == 403
    assert report(console, "agent", order_id, csrf="forged", **DAMAGED_MAT).status == 403
    assert shop.orders.get(order_id).returns == []

    shop.clock.advance(days=4)  # the standard policy's claim window: 3 days from delivery
    assert 'data-testid="form-open-claim"' not in page(console, "agent", order_id).body
    late = report(console, "agent", order_id, **DAMAGED_MAT)
    assert late.status == 422 and shop.orders.get(order_id).returns == []  # no unit may be claimed for now


def test_nothing_to_report_before_delivery(desk, shop):
    console, _, _ = desk
    order_id = shop.place({"PRAYER-MAT": 1}, key="key-00000009")
    shop.reserve(order_id)
    assert 'data-testid="form-open-claim"' not in page(console, "agent", order_id).body
