"""Chaos: a mixed workload (single and split orders, out of stock, duplicate checkouts, duplicate and reordered
webhooks) on the local stack while DynamoDB, SQS and Step Functions throttle 20% of calls and fail 5% ambiguously
(applied, then a 500). Then the faults stop, everything drains, and the invariants are checked:

- every order ends terminal, or waits for a person with the reason written down;
- per SKU and location, stock is conserved: on hand + shipped = what was there, reserved = what is held;
- no payment is captured or refunded twice, nor beyond what was authorised or captured;
- every customer message is sent exactly once (a split order's parcels, shipped together, in one message);
- the DLQs are empty, or what is there says why.

`make test-chaos` runs this tier alone; it is bounded in size and part of `make test`. Figures are printed."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from fakes import RecordingPayments

from dawra.adapters import payments
from dawra.local.actors import SandboxCarrierSimulator, Storefront
from dawra.local.faults import FaultPlan
from dawra.local.schedules import fire_now
from dawra.local.seed import STOCK, seed
from dawra.local.stack import LocalStack

PLAN = {"dynamodb": {"throttle": 0.2, "ambiguous": 0.05}, "sqs": {"throttle": 0.2, "ambiguous": 0.05},
        "stepfunctions": {"throttle": 0.2, "ambiguous": 0.05}, "seed": 20261201}
SETTLED = {"COMPLETED", "CANCELLED", "NEEDS_ATTENTION"}
# The timeline events that send a message: the confirmation is sent for the reservation (stock_reserved), so an
# order the stock cannot cover after all hears only its cancellation.
NOTIFIED = {"stock_reserved", "shipment_shipped", "shipment_delivered", "order_cancelled"}
RETRYABLE = {500, 502, 503}


def retrying(call, attempts: int = 30):
    """A storefront or carrier retries 5xx and dropped connections, with the same key or body."""
    for attempt in range(attempts):
        try:
            result = call()
        except OSError:
            result = None
        if result is not None and result.status not in RETRYABLE:
            return result
        time.sleep(min(0.05 * 2**attempt, 1.0))
    raise AssertionError(f"still failing after {attempts} attempts: {result and (result.status, result.body)}")


@pytest.fixture(scope="module")
def chaos():
    ledger = RecordingPayments()
    original = payments.wrap_provider
    payments.wrap_provider = ledger.wrap
    stack = LocalStack(background_pollers=True, time_scale=0.05).start()
    try:
        from dawra.adapters.dynamo.inventory import DynamoInventory

        seed(DynamoInventory(stack.cloud.resolve_ref("table", "inventory", "name")))
        yield stack, ledger
    finally:
        stack.stop()
        payments.wrap_provider = original


def workload(run: str) -> list[tuple[str, dict]]:
    def order(name, lines):
        email = f"{name}-{run}@example.com"
        return email, {"customer_id": name, "contact": {"email": email},
                       "shipping_address": {"name": name, "line1": "1 Olaya St", "city": "Riyadh", "country": "SA"},
                       "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
                       "payment_token": "tok_sandbox_approve"}
    singles = [order(f"single{i}", {"MUG-CLASSIC": 1 + i % 2}) for i in range(5)]
    splits = [order(f"split{i}", {"DALLAH-BRASS": 1, "DATES-1KG": 1}) for i in range(3)]
    sold_out = [order(f"soldout{i}", {"PRAYER-MAT": 5}) for i in range(2)]  # visibly short: refused at checkout
    contested = [order(f"contested{i}", {"PRAYER-MAT": 2}) for i in range(2)]  # two mats, two orders for both
    return singles + splits + sold_out + contested


def test_invariants_hold_under_throttling_and_ambiguous_failures(chaos):
    stack, ledger = chaos
    cloud, started = stack.cloud, time.monotonic()
    store = Storefront(stack.gateway.url)
    secret = cloud.carrier_secrets["carrier-sandbox-webhook"]
    carrier = SandboxCarrierSimulator(stack.gateway.url, secret)
    rng = random.Random(7)
    run = uuid.uuid4().hex[:8]
    orders = workload(run)

    cloud.faults.set_plan(FaultPlan.parse(json.dumps(PLAN)))

    # Checkouts: each placed twice with the same key, concurrently; both answers must name the same order, or both
    # refuse it as out of stock (the sold-out ones always; a contested one when the other took the mats first).
    def checkout(item):
        email, body = item
        key = f"chaos-{run}-{email}"
        with ThreadPoolExecutor(max_workers=2) as pair:
            answers = list(pair.map(lambda _: retrying(lambda: store.place_order(body, key)), range(2)))
        expected = {409} if email.startswith("soldout") else {201, 409} if email.startswith("contested") else {201}
        assert {a.status for a in answers} in ({201}, {409}) and answers[0].status in expected, json.dumps(
            [(a.status, a.body) for a in answers])
        if answers[0].status == 409:
            assert all(a.body["code"] == "out_of_stock" and a.body["availability"] for a in answers)
            return email, None
        assert answers[0].body["order_id"] == answers[1].body["order_id"]
        return email, answers[0].body["order_id"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        answered = list(pool.map(checkout, orders))
    placed = [(email, order_id) for email, order_id in answered if order_id]
    refused = [email for email, order_id in answered if not order_id]
    assert sum(1 for email in refused if email.startswith("soldout")) == 2

    def get(order_id):
        return retrying(lambda: store.get_order(order_id)).body

    def wait(order_id, done, timeout_s=120):
        deadline = time.monotonic() + timeout_s
        while True:
            order = get(order_id)
            if done(order) or time.monotonic() > deadline:
                return order
            time.sleep(0.1)

    # The carrier: every booked parcel's reports, each twice, in a shuffled order.
    def deliver(item):
        _, order_id = item
        order = wait(order_id, lambda o: o["status"] in SETTLED or (
            o["shipments"] and all(s["tracking_number"] for s in o["shipments"])))
        posts = [(s["tracking_number"], status) for s in order["shipments"] if s["tracking_number"]
                 for status in ("PICKED_UP", "OUT_FOR_DELIVERY", "DELIVERED")] * 2
        rng.shuffle(posts)
        for tracking, status in posts:
            assert retrying(lambda t=tracking, s=status: carrier.post(t, s)).status == 202

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(deliver, placed))
    for _, order_id in placed:
        wait(order_id, lambda o: o["status"] in SETTLED, timeout_s=60)
    faulted_s = time.monotonic() - started
    injected = dict(cloud.faults.injected)

    cloud.faults.set_plan(None)
    finals = {order_id: wait(order_id, lambda o: o["status"] in SETTLED) for _, order_id in placed}
    stack.pollers.drain()
    # A split order's parcels are told together, minutes after they left: that time is now.
    fire_now(cloud, stack.pollers, "send_shipped_digest")
    time.sleep(1.0)  # a duplicate message would arrive here
    stack.pollers.drain()

    # 1. Every order ends terminal, or waits for a person with the reason written down; no execution still runs.
    statuses = Counter(o["status"] for o in finals.values())
    for order_id, order in finals.items():
        assert order["status"] in SETTLED, (order_id, order["status"])
        if order["status"] == "NEEDS_ATTENTION":
            assert order["attention_reason"], order_id
    arn = cloud.resolve_ref("state_machine", "order-lifecycle", "arn")
    executions = cloud.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    mine = [e for e in executions if e["name"] in finals]
    assert len(mine) == len(finals) and not [e for e in mine if e["status"] == "RUNNING"]

    # 2. Stock is conserved at every location.
    from dawra.adapters.dynamo.inventory import DynamoInventory

    inventory = DynamoInventory(cloud.resolve_ref("table", "inventory", "name"))
    reservations = [r for order_id in finals for r in inventory.reservations(order_id)]
    for (sku, location), initial in STOCK.items():
        level = inventory.stock(sku, location)
        mine_here = [r for r in reservations if (r.sku, r.location_id) == (sku, location)]
        shipped = sum(r.quantity for r in mine_here if r.state == "shipped")
        held = sum(r.quantity for r in mine_here if r.state == "held")
        assert level.on_hand + shipped == initial, (sku, location, level, shipped)
        assert level.reserved == held and level.available == level.on_hand - level.reserved, (sku, location)
    for r in reservations:
        assert r.state != "held" or finals[r.order_id]["status"] == "NEEDS_ATTENTION", r

    # 3. No payment captured or refunded twice, or beyond what was there. References are per shipment (captures,
    # undone captures) and per order (cancellation): a provider applies a repeated reference once.
    captures_asked, refunds_asked = ledger.by_reference("capture"), ledger.by_reference("refund")
    for order_id, order in finals.items():
        shipment_ids = {s["shipment_id"] for s in order["shipments"]}
        # A shipment's captures are <shipment id> then <shipment id>:<round> after one was given back (decisions 38).
        captures = {ref: amounts for ref, amounts in captures_asked.items() if ref.split(":")[0] in shipment_ids}
        undone = {ref: amounts for ref, amounts in refunds_asked.items()
                  if ref.endswith(":undo") and ref.removesuffix(":undo") in captures}
        cancelled = refunds_asked.get(f"{order_id}:cancel", set())
        assert all(len(amounts) == 1 for amounts in [*captures.values(), *undone.values()]) and len(cancelled) <= 1
        captured = sum(min(amounts) for amounts in captures.values()) - sum(min(a) for a in undone.values())
        shipped_amounts = sum(s["amount"]["amount"] for s in order["shipments"] if s["status"] != "allocated")
        assert order["payment"]["captured"]["amount"] == shipped_amounts == captured, order_id
        assert sum(cancelled) <= captured <= order["payment"]["authorized"]["amount"]
        assert order["payment"]["refunded"]["amount"] == sum(cancelled)

    # 4. Every customer message exactly once.
    outbox = stack.outbox()
    sent = Counter(m.to for m in outbox)
    twice = [k for k, n in Counter((m.to, m.subject, m.body) for m in outbox).items() if n > 1]
    assert not twice, ("a message was sent twice", [(to, subject) for to, subject, _ in twice],
                       [finals[order_id]["timeline"] for email, order_id in placed if email in {t[0] for t in twice}])
    for email, order_id in placed:
        # The parcels of an order all ship within seconds here: one shipped message per order, for one parcel or
        # several (told together).
        kinds = [e["kind"] for e in finals[order_id]["timeline"] if e["kind"] in NOTIFIED]
        expected = sum(1 for kind in kinds if kind != "shipment_shipped") + ("shipment_shipped" in kinds)
        assert sent[email] == expected, (email, sent[email], expected)
    assert not [email for email in refused if sent[email]]  # a refused checkout tells nobody anything

    # 5. The DLQs are empty, or what is there says why.
    sqs = cloud.client("sqs")
    tracking_dlq = sqs.receive_message(QueueUrl=cloud.resolve_ref("queue", "carrier-tracking-dlq", "url"),
                                       MaxNumberOfMessages=10).get("Messages", [])
    assert not tracking_dlq
    for message in sqs.receive_message(QueueUrl=cloud.resolve_ref("queue", "notify-failures", "url"),
                                       MaxNumberOfMessages=10).get("Messages", []):
        assert json.loads(message["Body"])["requestContext"]["condition"]

    print(f"\nchaos: {len(finals)} orders ({len(orders)} checkouts sent twice each, {carrier.sent} webhooks) in "
          f"{faulted_s:.1f} s under faults, {time.monotonic() - started:.1f} s in all; final statuses "
          f"{dict(statuses)}; {len(outbox)} messages; faults injected: {sum(injected.values())} "
          f"({_by_kind(injected)}); {cloud.faults.summary()}")


def _by_kind(injected: dict) -> str:
    kinds = Counter()
    for (service, _, kind), count in injected.items():
        kinds[f"{service} {kind}"] += count
    return ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items()))
