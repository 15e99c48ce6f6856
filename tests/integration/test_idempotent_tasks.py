"""Tasks Step Functions may retry do their work once."""

import json

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.local.actors import Storefront


def test_a_retried_allocate_does_not_reserve_twice(local_stack, unique):
    inventory = DynamoInventory(local_stack.cloud.resolve_ref("table", "inventory", "name"))
    store = Storefront(local_stack.gateway.url)
    body = {"customer_id": unique("c"), "contact": {"email": f"{unique('e')}@example.com"},
            "shipping_address": {"name": "N", "line1": "L", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": "DATES-1KG", "quantity": 3}], "payment_token": "tok_sandbox_approve"}
    order_id = store.place_order(body, unique("key")).body["order_id"]
    first = store.wait_for(order_id, {"SHIPPED"})  # ReserveStock ran (and shipping consumed the reservation)
    stock_after_first = inventory.stock("DATES-1KG", "riyadh-dc")
    reservations = inventory.reservations(order_id)

    name = local_stack.cloud.topology.function("allocate-stock").name
    payload = json.dumps({"action": "reserve_stock", "order_id": order_id}).encode()
    for _ in range(2):  # Step Functions retrying the task after a lost response
        response = local_stack.cloud.client("lambda").invoke(FunctionName=name, Payload=payload)
        assert "FunctionError" not in response
        result = json.loads(response["Payload"].read())
        assert [s["shipment_id"] for s in result["shipments"]] == [s["shipment_id"] for s in first["shipments"]]

    assert inventory.stock("DATES-1KG", "riyadh-dc") == stock_after_first
    assert inventory.reservations(order_id) == reservations
    assert sum(r.quantity for r in reservations) == 3
