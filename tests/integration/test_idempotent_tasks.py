"""Tasks Step Functions may retry do their work once."""

import json

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.local.actors import Storefront


def test_a_retried_reservation_does_not_reserve_or_ship_twice(local_stack, unique):
    inventory = DynamoInventory(local_stack.cloud.resolve_ref("table", "inventory", "name"))
    store = Storefront(local_stack.gateway.url)
    body = {"customer_id": unique("c"), "contact": {"email": f"{unique('e')}@example.com"},
            "shipping_address": {"name": "N", "line1": "L", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": "DATES-1KG", "quantity": 3}], "payment_token": "tok_sandbox_approve"}
    order_id = store.place_order(body, unique("key")).body["order_id"]
    first = store.wait_for(order_id, {"SHIPPED"})  # ReserveStock ran (and shipping consumed the reservation)
    stock_after_first = inventory.stock("DATES-1KG", "riyadh-dc")
    reservations = inventory.reservations(order_id)

    # Step Functions retrying the task after a lost response: ReserveAndShip on ship-order (decision 124), and
    # ReserveStock on allocate-stock (its fallback after a rollback), each twice
    tasks = [("ship-order", "reserve_and_ship"), ("allocate-stock", "reserve_stock")]
    for function, action in tasks * 2:
        name = local_stack.cloud.topology.function(function).name
        payload = json.dumps({"action": action, "order_id": order_id}).encode()
        response = local_stack.cloud.client("lambda").invoke(FunctionName=name, Payload=payload)
        assert "FunctionError" not in response
        result = json.loads(response["Payload"].read())
        assert [s["shipment_id"] for s in result["shipments"]] == [s["shipment_id"] for s in first["shipments"]]
        if action == "reserve_and_ship":  # the parcel it shipped the first time, not shipped again
            assert result["parcel"]["shipment_id"] == first["shipments"][0]["shipment_id"]
            assert result["parcel"]["shipped_now"] is False

    assert inventory.stock("DATES-1KG", "riyadh-dc") == stock_after_first
    assert inventory.reservations(order_id) == reservations
    assert sum(r.quantity for r in reservations) == 3
    [shipment] = store.get_order(order_id).body["shipments"]
    assert shipment["tracking_number"] == first["shipments"][0]["tracking_number"]  # booked once
