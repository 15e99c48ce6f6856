"""Cash on delivery confirmed before anything ships, through the real state machine on the embedded cloud, with the
merchant's confirmation hold made short (the `hold-hours` deploy parameter): an Emirati COD order placed by the
storefront waits on hold; the customer's SMS reply (phone and code) releases it and it ships; another, never
confirmed, is cancelled by the hold's timeout as NotConfirmed, its stock released and the customer told."""

from __future__ import annotations

import uuid

import pytest
from parcels import messages_to, stock, wait_until
from stacks import seeded_stack

from dawra.local.actors import Storefront

pytestmark = pytest.mark.timeout(240)
HOLD_HOURS = 0.01  # 36 s: time enough to reply to the first, and the second times out


@pytest.fixture(scope="module")
def shop():
    yield from seeded_stack(**{"hold-hours": f"cod_confirmation={HOLD_HOURS}"})


def cod_order(stack, phone: str) -> dict:
    placed = Storefront(stack.gateway.url).place_order({
        "customer_id": f"cust-{uuid.uuid4().hex[:8]}",
        "contact": {"email": f"{uuid.uuid4().hex[:8]}@example.com", "phone": phone, "preferred_channel": "sms",
                    "language": "ar"},
        "shipping_address": {"name": "Aisha", "line1": "1 Sheikh Zayed Rd", "city": "Dubai", "country": "AE"},
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_method": "cash_on_delivery"}, f"key-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    return placed.body


def replies(stack):
    from dawra.adapters.dynamo.backoffice import DynamoAuditLog, DynamoOrderSearch
    from dawra.adapters.dynamo.orders import DynamoOrders
    from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.cod_confirmation import ConfirmCashOnDelivery
    from dawra.app.common import SystemClock

    cloud = stack.cloud
    orders, inventory = (cloud.resolve_ref("table", t, "name") for t in ("orders", "inventory"))
    return ConfirmCashOnDelivery(DynamoOrders(orders), DynamoUnitOfWork(orders, inventory), DynamoAuditLog(orders),
                                 StepFunctionsWorkflow(cloud.resolve_ref("state_machine", "order-lifecycle", "arn")),
                                 SystemClock(), DynamoOrderSearch(orders))


def test_a_reply_confirms_one_order_and_the_other_is_cancelled_unconfirmed(shop):
    from dawra.domain.cod import confirmation_code

    before = stock(shop, "MUG-CLASSIC", "riyadh-dc")
    confirmed = cod_order(shop, "+971501110001")
    forgotten = cod_order(shop, "+971501110002")
    for order in (confirmed, forgotten):
        wait_until(shop, order["order_id"], lambda o: o["status"] == "ON_HOLD", what="not held for confirmation")
    code = confirmation_code(confirmed["order_id"])
    told = messages_to(shop, "+971501110001", 2)  # the order received, and how to confirm it
    assert [m for m in told if f"نعم {code}" in m.body]

    outcome = replies(shop).by_sms("+971501110001", f"نعم {code}", "sms-1")
    assert outcome == f"{confirmed['order_id']} confirmed"
    shipped = wait_until(shop, confirmed["order_id"], lambda o: o["status"] == "SHIPPED", what="not shipped")
    assert "cod_confirmed" in [e["kind"] for e in shipped["timeline"]]
    assert replies(shop).by_sms("+971501110001", f"yes {code}", "sms-2").endswith("already confirmed")

    cancelled = wait_until(shop, forgotten["order_id"], lambda o: o["status"] == "CANCELLED", timeout_s=150,
                           what="not cancelled when its confirmation timed out")
    assert cancelled["cancellation_reason"] == "NotConfirmed"
    told = messages_to(shop, "+971501110002", 2)
    assert any("لعدم تأكيده" in m.body for m in told)
    # Only the confirmed one's mug left the shelf; the other's was released.
    assert stock(shop, "MUG-CLASSIC", "riyadh-dc") == (before[0] - 1, before[1], before[2] - 1)
