"""The admin API over the local gateway, signed in with tokens moto's Cognito issues: the scenario's orders, every
order action audited, refusals that say why, roles enforced, and searches answered from indexes, never a scan."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import stacks
from botocore.client import BaseClient
from stacks import operator

from dawra.app.backoffice import ORDER_ACTIONS
from dawra.app.stock import STOCK_ACTIONS
from dawra.local.actors import AdminApi, SandboxCarrierSimulator, Storefront
from dawra.local.scenario import AGENT_CUSTOMER_PHONE, seed_backoffice_scenario

PASSWORD = "Local-Passw0rd!"


def carrier_for(stack) -> SandboxCarrierSimulator:
    return SandboxCarrierSimulator(stack.gateway.url, stack.cloud.carrier_secrets["carrier-sandbox-webhook"])


@pytest.fixture(scope="module")
def office(local_stack):
    agent, manager = operator(local_stack, "agent"), operator(local_stack, "manager")
    store = Storefront(local_stack.gateway.url)
    scenario = seed_backoffice_scenario(store, carrier_for(local_stack), agent)
    return {"agent": agent, "manager": manager, "warehouse": operator(local_stack, "warehouse"), "store": store,
            "scenario": scenario}


def key() -> str:
    return f"req-{uuid.uuid4()}"


def eventually(check, timeout_s: float = 20):
    return stacks.eventually(check, timeout_s, every_s=0.05)


def test_an_agent_finds_the_order_by_phone_and_cancels_a_line_and_the_stock_follows(office, local_stack):
    agent, scenario = office["agent"], office["scenario"]
    found = agent.get(f"/orders?phone={AGENT_CUSTOMER_PHONE.replace('+', '%2B')}")
    assert found.status == 200, found.body
    assert [row["order_id"] for row in found.body["orders"]] == [scenario.on_hold]
    detail = agent.get(f"/orders/{scenario.on_hold}").body
    assert detail["status"] == "ON_HOLD" and detail["placed_by"] and detail["payment_provider"] == "cash_on_delivery"
    inventory = local_stack.cloud.client("dynamodb")
    table = local_stack.cloud.resolve_ref("table", "inventory", "name")

    def reserved(sku: str) -> int:
        item = inventory.get_item(TableName=table, Key={"pk": {"S": f"SKU#{sku}"}, "sk": {"S": "STOCK#riyadh-dc"}},
                                  ConsistentRead=True)["Item"]
        return int(item["reserved"]["N"])

    before = reserved("DATES-1KG")
    cancelled = agent.post(f"/orders/{scenario.on_hold}/lines/DATES-1KG/cancel", {"reason": "not needed"}, key())
    assert cancelled.status == 200, cancelled.body
    assert [line["sku"] for line in cancelled.body["order"]["lines"]] == ["MUG-CLASSIC"]
    assert reserved("DATES-1KG") == before - 2
    kinds = [event["kind"] for event in cancelled.body["order"]["timeline"]]
    assert kinds[-1] == "line_cancelled" and "order_on_hold" in kinds


def test_a_warehouse_user_cannot_refund_and_is_told_why(office):
    completed = office["scenario"].completed[0]
    refused = office["warehouse"].post(f"/orders/{completed}/refunds", {"amount": 100, "reason": "no"}, key())
    assert refused.status == 403 and refused.body["code"] == "forbidden", refused.body
    assert "refund" in refused.body["detail"]


def test_an_illegal_action_is_a_409_that_says_why(office):
    shipped = office["scenario"].in_transit[0]
    refused = office["agent"].post(f"/orders/{shipped}/cancel", {"reason": "too late"}, key())
    assert refused.status == 409 and refused.body["code"] == "illegal_transition"
    assert "SHIPPED" in refused.body["detail"]


def test_every_order_action_is_in_the_audit_trail_and_a_replay_acts_once(office, local_stack):
    agent, manager, store, scenario = office["agent"], office["manager"], office["store"], office["scenario"]
    placed = agent.post("/orders", {
        "customer_id": "cust-audit", "contact": {"email": "audit@example.com", "phone": "+966555000111"},
        "shipping_address": {"name": "Audit", "line1": "1 St", "city": "Riyadh", "country": "SA"},
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}, {"sku": "DATES-1KG", "quantity": 1}],
        "payment": "cash_on_delivery", "hold_reason": "check the address"}, key())
    assert placed.status == 201, placed.body
    order_id = placed.body["order"]["order_id"]
    store.wait_for(order_id, {"ON_HOLD"})
    address = {"name": "Audit", "line1": "2 St", "city": "Riyadh", "country": "SA"}
    note_key = key()
    steps = [
        (agent, f"/orders/{order_id}/notes", {"note": "called, address fixed"}, note_key),
        (agent, f"/orders/{order_id}/address", {"address": address, "reason": "typo"}, key()),
        (agent, f"/orders/{order_id}/lines/DATES-1KG/cancel", {"reason": "customer removed it"}, key()),
        (agent, f"/orders/{order_id}/release", {"reason": "confirmed"}, key()),
    ]
    for who, path, body, request_key in steps:
        result = who.post(path, body, request_key)
        assert result.status == 200, (path, result.body)
    replay = agent.post(f"/orders/{order_id}/notes", {"note": "called, address fixed"}, note_key)
    assert replay.status == 200 and replay.body["replayed"] is True
    shipped = store.wait_for(order_id, {"SHIPPED"})
    assert shipped["totals"]["total"]["amount"] < placed.body["order"]["totals"]["total"]["amount"]
    confirmed = next(e for e in shipped["timeline"] if e["kind"] == "stock_reserved")  # sent the confirmation
    assert agent.post(f"/orders/{order_id}/messages/{confirmed['event_id']}/resend", {"reason": "lost"},
                      key()).status == 200
    assert manager.post(f"/orders/{order_id}/refunds", {"amount": 500, "reason": "goodwill"}, key()).status == 200
    held = agent.post("/orders", {
        "customer_id": "cust-audit2", "contact": {"email": "audit2@example.com"},
        "shipping_address": address, "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}],
        "payment": "payment_link"}, key())
    other = held.body["order"]["order_id"]
    store.wait_for(other, {"ON_HOLD"})
    assert agent.post(f"/orders/{other}/hold", {"reason": "again"}, key()).status == 409  # already on hold
    assert agent.post(f"/orders/{other}/cancel", {"reason": "never paid"}, key()).status == 202
    assert store.wait_for(other, {"CANCELLED"})["cancellation_reason"] == "CancelledByOperator"
    assert agent.get(f"/orders/{other}").body["cancellation_requested"] == "never paid"
    unpaid = agent.post("/orders", {
        "customer_id": "cust-audit3", "contact": {"email": "audit3@example.com"},
        "shipping_address": address, "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}],
        "payment": "payment_link"}, key()).body["order"]["order_id"]
    store.wait_for(unpaid, {"ON_HOLD"})
    assert agent.get(f"/orders/{unpaid}").body["hold_kind"] == "awaiting_link_payment"
    assert agent.post(f"/orders/{unpaid}/reject", {"reason": "not paid"}, key()).status == 403  # a manager's word
    assert manager.post(f"/orders/{unpaid}/reject", {"reason": "link expired unpaid"}, key()).status == 200
    assert store.wait_for(unpaid, {"CANCELLED"})["cancellation_reason"] == "CancelledByOperator"
    hold_target = scenario.payment_link_order
    assert agent.post(f"/orders/{hold_target}/release", {"reason": "paid"}, key()).status == 403  # a manager's word
    assert manager.post(f"/orders/{hold_target}/release", {"reason": "paid"}, key()).status == 200
    store.wait_for(hold_target, {"SHIPPED"})

    adjusted = manager.post("/stock/adjustments", {"sku": "PRAYER-MAT", "location_id": "riyadh-dc", "delta": 3,
                                                   "reason": "found in the back room"}, key())
    assert adjusted.status == 200, adjusted.body
    sent = manager.post("/stock/transfers", {"sku": "MUG-CLASSIC", "from_location": "riyadh-dc",
                                             "to_location": "jeddah-store", "quantity": 4, "reason": "rebalance"},
                        key())
    assert sent.status == 200, sent.body
    transfer_id = sent.body["transfer"]["transfer_id"]
    levels = {(s["sku"], s["location_id"]): s for s in manager.get("/stock?sku=MUG-CLASSIC").body["levels"]}
    assert levels[("MUG-CLASSIC", "jeddah-store")]["in_transit"] == 4
    received = manager.post(f"/stock/transfers/{transfer_id}/receive", {}, key())
    assert received.status == 200, received.body
    assert agent.post(f"/orders/{order_id}/hold", {"reason": "after it shipped"}, key()).status == 409

    on_order = agent.get(f"/orders/{order_id}").body["audit"]
    assert [entry["action"] for entry in on_order].count("add_note") == 1  # the replay wrote nothing
    assert all(entry["actor_id"] and entry["at"] for entry in on_order)
    assert eventually(lambda: len([m for m in local_stack.outbox() if m.to == "audit@example.com"]) >= 3)


def test_a_hold_caught_while_the_parcel_is_being_booked_stops_it_and_a_release_ships_it(office, monkeypatch):
    """The carrier's booking is held up until the agent's hold is in: the ship task loses its commit, gives its
    capture back and parks the shipment; the release resumes it and it ships (a new capture)."""
    from dawra.adapters.carriers.sandbox import SandboxCarrier

    agent, store = office["agent"], office["store"]
    booking, hold_in = threading.Event(), threading.Event()
    book = SandboxCarrier.book

    def slow_book(self, shipment_id, country, weight_g):
        booking.set()
        hold_in.wait(timeout=10)
        return book(self, shipment_id, country, weight_g)

    monkeypatch.setattr(SandboxCarrier, "book", slow_book)
    placed = store.place_order({
        "customer_id": "cust-hold", "contact": {"email": "hold@example.com"},
        "shipping_address": {"name": "Hold", "line1": "1 St", "city": "Riyadh", "country": "SA"},
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_token": "tok_sandbox_approve"}, key())
    order_id = placed.body["order_id"]
    assert booking.wait(timeout=20)
    held = agent.post(f"/orders/{order_id}/hold", {"reason": "address looks wrong"}, key())
    hold_in.set()
    assert held.status == 200 and held.body["audit"]["action"] == "hold", held.body
    monkeypatch.setattr(SandboxCarrier, "book", book)
    assert eventually(lambda: store.get_order(order_id).body["shipments"][0].get("status") == "allocated"
                      and store.get_order(order_id).body["status"] == "ON_HOLD")
    time.sleep(0.5)  # the workflow parks the shipment (WaitWhileOnHold)
    assert store.get_order(order_id).body["payment"]["captured"]["amount"] == 0
    assert agent.post(f"/orders/{order_id}/release", {"reason": "checked"}, key()).status == 200
    shipped = store.wait_for(order_id, {"SHIPPED"})
    assert shipped["payment"]["captured"]["amount"] == shipped["totals"]["total"]["amount"]


def test_searches_are_answered_from_indexes_without_a_scan(office):
    calls: list[tuple[str, str | None]] = []
    original = BaseClient._make_api_call
    lock = threading.Lock()

    def recording(self, operation_name, api_params):
        with lock:
            calls.append((operation_name, api_params.get("IndexName")))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = recording
    try:
        agent = office["agent"]
        for query in (f"phone={AGENT_CUSTOMER_PHONE.replace('+', '%2B')}", "email=sara@example.com",
                      "sku=DATES-1KG", "location=jeddah-store", "status=COMPLETED", "placed_from=2020-01-01",
                      f"reference={office['scenario'].completed[0]}"):
            result = agent.get(f"/orders?{query}")
            assert result.status == 200 and result.body["orders"], (query, result.body)
    finally:
        BaseClient._make_api_call = original
    operations = {name for name, _ in calls}
    assert "Scan" not in operations
    assert {index for name, index in calls if name == "Query"} >= {"by-lookup", "by-status"}


def test_pages_follow_each_other_newest_first(office):
    agent = office["agent"]
    first = agent.get("/orders?limit=2").body
    second = agent.get(f"/orders?limit=2&cursor={first['cursor']}").body
    rows = first["orders"] + second["orders"]
    assert len(rows) == 4 and len({row["order_id"] for row in rows}) == 4
    assert [row["placed_at"] for row in rows] == sorted((row["placed_at"] for row in rows), reverse=True)


def test_no_token_or_a_bad_one_never_reaches_the_api(office, local_stack):
    anonymous = AdminApi(local_stack.gateway.url, "")
    assert anonymous.get("/me").status == 401
    forged = AdminApi(local_stack.gateway.url, office["agent"].id_token[:-4] + "AAAA")
    assert forged.get("/orders").status == 401


def test_every_action_taken_in_this_module_is_in_the_operators_audit_trails(office):
    """Runs last: the actions above (each kind at least once, the hold caught while a parcel was being booked)."""
    agent, manager = office["agent"], office["manager"]
    trails: set[str] = set()
    for who in (agent, manager):
        me = who.get("/me").body
        trail = manager.get(f"/audit?actor_id={me['user_id']}&limit=100")
        assert trail.status == 200
        assert all(entry["actor_id"] == me["user_id"] for entry in trail.body["entries"])
        trails |= {entry["action"] for entry in trail.body["entries"]}
    assert set(ORDER_ACTIONS) | set(STOCK_ACTIONS) <= trails
    refused = office["warehouse"].get(f"/audit?actor_id={agent.get('/me').body['user_id']}")
    assert refused.status == 403  # another operator's trail needs the audit permission
