"""Pick and pack on the embedded cloud (decisions 96, 97): an order at a pick_pack location waits (the state
machine's WaitForPacking) until the warehouse marks it picked and packed in the console, then ships and is
delivered; an order at the partner location (dammam-3pl) is sent to the partner, signed, on its queue, and ships
once the partner's signed callback says packed."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from pages import console, hidden
from stacks import eventually

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.local.actors import PartnerSimulator, SandboxCarrierSimulator, Storefront
from dawra.local.scenario import sign_in
from dawra.local.seed import LOCATIONS, create_operator


@pytest.fixture(scope="module")
def floor(local_stack):
    """riyadh-dc picks and packs by hand on this stack (its own, for this module); dates only at the 3PL."""
    inventory = DynamoInventory(local_stack.cloud.resolve_ref("table", "inventory", "name"))
    (riyadh,) = [loc for loc in LOCATIONS if loc.location_id == "riyadh-dc"]
    inventory.put_location(riyadh.model_copy(update={"preparation": "pick_pack"}))
    inventory.set_stock("DATES-1KG", "riyadh-dc", 0)
    username = f"wh-{uuid.uuid4().hex[:8]}"
    person = create_operator(local_stack.cloud, username, f"{username}@dawra.example", ("warehouse",))
    return {"token": sign_in(local_stack, person), "store": Storefront(local_stack.gateway_url),
            "carrier": SandboxCarrierSimulator(local_stack.gateway_url,
                                               local_stack.cloud.carrier_secrets["carrier-sandbox-webhook"])}


def place(store: Storefront, lines: dict[str, int]) -> str:
    body = {"customer_id": "cust-pickpack", "contact": {"email": "pickpack@example.com"},
            "shipping_address": {"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines.items()],
            "payment_token": "tok_sandbox_approve"}
    placed = store.place_order(body, f"pickpack-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    return str(placed.body["order_id"])


def test_a_pick_pack_order_waits_is_packed_in_the_console_then_ships_and_is_delivered(local_stack, floor):
    base, token, store = local_stack.gateway_url, floor["token"], floor["store"]
    order_id = place(store, {"MUG-CLASSIC": 1})

    def listed() -> str | None:
        page = console(base, token, "GET", "/admin/warehouse?location=riyadh-dc").text
        return page if order_id in page else None

    page = eventually(listed, timeout_s=60, every_s=0.5)
    assert page, "the order never reached the picking list"
    shipment_id = re.search(rf'data-shipment="(shp_[0-9a-f]+)" data-order="{order_id}"', page).group(1)
    time.sleep(1)  # nothing moves while it waits: still allocated, nothing booked
    order = store.get_order(order_id).body
    assert order["status"] == "ALLOCATED" and not order["shipments"][0].get("tracking_number")

    for action in ("pick", "pack"):
        done = console(base, token, "POST", f"/admin/warehouse/{action}", {
            "csrf": hidden(page, "csrf"), "key": f"k-{uuid.uuid4()}", "location": "riyadh-dc",
            "order_id": order_id, "shipment_id": shipment_id})
        assert done.status == 303, done.text[:500]
        page = console(base, token, "GET", "/admin/warehouse?location=riyadh-dc").text

    shipped = store.wait_for(order_id, {"SHIPPED"}, timeout_s=60)
    assert order_id not in page  # packed: off the picking list
    floor["carrier"].deliver(shipped["shipments"][0]["tracking_number"])
    assert store.wait_for(order_id, {"COMPLETED"}, timeout_s=60)["status"] == "COMPLETED"


def test_a_partner_order_is_sent_to_the_partner_and_ships_on_its_signed_callback(local_stack, floor):
    store, cloud = floor["store"], local_stack.cloud
    partner = PartnerSimulator(local_stack.gateway_url, "dammam-3pl", cloud.carrier_secrets["partner-dammam-3pl"],
                               cloud.client("sqs"), cloud.resolve_ref("queue", "partner-outbound", "url"))
    order_id = place(store, {"DATES-1KG": 2})
    taken = eventually(lambda: [s for s in partner.take(wait_s=2) if s["order_id"] == order_id], timeout_s=60)
    assert taken, "the partner never got the shipment"
    (shipment,) = taken
    assert [(line["sku"], line["quantity"]) for line in shipment["lines"]] == [("DATES-1KG", 2)]

    forged = partner.callback(shipment, signature="t=1,v1=00")
    assert forged.status == 202  # stored first; the consumer drops it (nothing moves)
    time.sleep(1)
    assert store.get_order(order_id).body["status"] == "ALLOCATED"

    assert partner.callback(shipment, tracking_number="DMM-0001").status == 202
    assert partner.callback(shipment, status="picked").status == 202  # late and out of order: changes nothing
    shipped = store.wait_for(order_id, {"SHIPPED"}, timeout_s=60)
    floor["carrier"].deliver(shipped["shipments"][0]["tracking_number"])
    assert store.wait_for(order_id, {"COMPLETED"}, timeout_s=60)["status"] == "COMPLETED"
