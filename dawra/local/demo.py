"""`make demo`: a merchant's day on the local stack, end to end over HTTP."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.domain.inventory import StockLevel
from dawra.local import demo_fulfilment as fulfilment
from dawra.local.actors import SandboxCarrierSimulator, Storefront
from dawra.local.schedules import fire_now
from dawra.local.seed import seed
from dawra.local.stack import LocalStack
from dawra.web.i18n import Translator
from dawra.web.routing_words import routing_reason


def customer(name: str, email: str, *, phone: str | None = None, channel: str = "email", language: str = "en",
             city: str = "Riyadh") -> dict[str, Any]:
    contact = {"email": email, "preferred_channel": channel, "language": language}
    if phone:
        contact["phone"] = phone
    return {"contact": contact, "shipping_address": {"name": name, "line1": "12 Olaya St", "city": city,
                                                     "country": "SA"}}


DEMO_ORDERS = [
    ("Sara: two mugs, shipped from Riyadh", {
        "customer_id": "cust-sara", **customer("Sara Al-Otaibi", "sara@example.com"),
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}], "payment_token": "tok_sandbox_approve"}),
    ("Omar (Arabic, SMS): dallah + dates, split Jeddah/Riyadh, express", {
        "customer_id": "cust-omar", **customer("عمر الحربي", "omar@example.com", phone="+966501234567",
                                               channel="sms", language="ar", city="Jeddah"),
        "shipping_method": "express",
        "lines": [{"sku": "DALLAH-BRASS", "quantity": 1}, {"sku": "DATES-1KG", "quantity": 2}],
        "payment_token": "tok_sandbox_approve"}),
    ("Noura: a mug, cash on delivery (its fee a line of the totals; the courier collects at the door)", {
        "customer_id": "cust-noura", **customer("Noura Al-Qahtani", "noura@example.com"),
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_method": "cash_on_delivery"}),
]
SHORT_ORDER = {  # Lina: five prayer mats, only two in stock
    "customer_id": "cust-lina", **customer("Lina <b>Haddad</b>", "lina@example.com"),
    "lines": [{"sku": "PRAYER-MAT", "quantity": 5}], "payment_token": "tok_sandbox_approve"}


def _stock(inventory: DynamoInventory, sku: str, location_id: str) -> StockLevel:
    level = inventory.stock(sku, location_id)
    if level is None:
        raise RuntimeError(f"no stock of {sku} at {location_id}: was the demo's data seeded?")
    return level


DEMO_OUTPUT = Path("tmp/demo")  # under the repository (git ignores tmp/)


def _sample_invoices(stack: LocalStack, order_ids: list[str]) -> None:
    """Each order's first tax invoice as the customer downloads it, Sara's in English and Omar's in Arabic (the
    order page's own InvoicePages, on the local orders table), written to tmp/demo/."""
    from dawra.adapters.dynamo.orders import DynamoOrders
    from dawra.web.invoices import InvoicePages

    orders = DynamoOrders(stack.cloud.resolve_ref("table", "orders", "name"))
    pages = InvoicePages(orders)
    DEMO_OUTPUT.mkdir(parents=True, exist_ok=True)
    print()
    for order_id, language in zip(order_ids, ("en", "ar"), strict=False):
        order = orders.get(order_id)
        if order is None or not order.documents:
            raise RuntimeError(f"{order_id} has no invoice")
        print(f"Tax documents of {order_id}: {', '.join(ref.number for ref in order.documents)}")
        path = DEMO_OUTPUT / f"invoice-{language}.pdf"
        path.write_bytes(pages.pdf(order, order.documents[0].number, language))
        print(f"   {order.documents[0].number} ({language}) written to {path}")


def _cod_remittance(stack: LocalStack, store: Storefront, order_ids: list[str]) -> None:
    """The courier's remittance file for the cash-on-delivery orders delivered, reconciled (tmp/demo/)."""
    from dawra.local.demo_cod import reconcile, summary

    parcels = []
    for order_id in order_ids:
        order = store.get_order(order_id).body
        if order["totals"].get("cod_fee"):
            parcels += [(s["tracking_number"], order["totals"]["total"]["amount"]) for s in order["shipments"]]
    report = reconcile(stack, parcels, DEMO_OUTPUT)
    print()
    print("\n".join(summary(report)))
    print(f"   written to {DEMO_OUTPUT}/remittance-report.json and remittance-report-(en|ar).html")


def run_demo() -> int:
    started = time.monotonic()
    with LocalStack() as stack:
        store = Storefront(stack.gateway_url)
        inventory = DynamoInventory(stack.cloud.resolve_ref("table", "inventory", "name"))
        seed(inventory)
        secret = stack.cloud.client("secretsmanager").get_secret_value(
            SecretId=stack.cloud.resolve_ref("secret", "carrier-sandbox-webhook", "name"))["SecretString"]
        carrier = SandboxCarrierSimulator(stack.gateway_url, secret)
        print(f"Local stack up: gateway {stack.gateway_url}, AWS endpoint {stack.aws_endpoint}\n")
        print("\n".join(fulfilment.availability(store)) + "\n")

        declined = store.place_order({**DEMO_ORDERS[0][1], "payment_token": "tok_sandbox_decline"},
                                     f"demo-{uuid.uuid4()}")
        print(f"A declined card is refused before anything is written: HTTP {declined.status} "
              f"{declined.body['code']}")

        mats_before = _stock(inventory, "PRAYER-MAT", "riyadh-dc")
        short = store.place_order(SHORT_ORDER, f"demo-{uuid.uuid4()}")
        print(f"An order the stock cannot cover is refused before anything is written: HTTP {short.status} "
              f"{short.body['code']} {short.body.get('availability')}")

        placed = []
        for title, order in DEMO_ORDERS:
            key = f"demo-{uuid.uuid4()}"
            result = store.place_order(order, key)
            if result.status != 201:
                raise RuntimeError(f"placing {title!r} failed: HTTP {result.status} {result.body}")
            replay = store.place_order(order, key)
            same = replay.status == 201 and replay.body["order_id"] == result.body["order_id"]
            print(f"Placed {result.body['order_id']} ({title}); replay with the same Idempotency-Key -> "
                  f"{'same order' if same else 'DIFFERENT ORDER'}")
            placed.append((title, result.body["order_id"]))
        collected, backordered = fulfilment.place(store)  # a store pickup; a backorder

        for _title, order_id in placed:
            order = store.wait_for(order_id, {"SHIPPED", "CANCELLED"})
            if order["status"] == "SHIPPED":
                # every shipment of the order must be booked before the carrier can report on it
                while any(s["status"] == "allocated" for s in order["shipments"]):
                    time.sleep(0.05)
                    order = store.get_order(order_id).body
                # a cash-on-delivery parcel's delivery says what the courier collected (here: all that was due)
                cod = order["totals"].get("cod_fee") and len(order["shipments"]) == 1
                for shipment in order["shipments"]:
                    carrier.deliver(shipment["tracking_number"],
                                    cod_collected=order["totals"]["total"]["amount"] if cod else None)
                # the carrier repeats itself and is late: both are harmless
                first = order["shipments"][0]["tracking_number"]
                carrier.post(first, "DELIVERED")
                carrier.post(first, "IN_TRANSIT", event_id=f"late-{first}")
        fulfilment.store_pickup(stack, store, collected[1])
        fulfilment.backorder(stack, store, carrier, backordered[1])

        print()
        statuses = []
        for title, order_id in [*placed, collected, backordered]:
            order = store.wait_for(order_id, {"COMPLETED", "CANCELLED"})
            statuses.append(order["status"])
            print(f"== {order_id}: {title}")
            total = order["totals"]["total"]
            print(f"   status {order['status']}, total {total['amount']} {total['currency']} (minor units), "
                  f"captured {order['payment']['captured']['amount']}, refunded {order['payment']['refunded']['amount']}"
                  f"{', reason ' + order['cancellation_reason'] if order['cancellation_reason'] else ''}")
            for shipment in order["shipments"]:
                print(f"   shipment {shipment['shipment_id']} from {shipment['location_id']}: {shipment['status']}"
                      + (f", tracking {shipment['tracking_number']}" if shipment.get("tracking_number") else ""))
            for event in order["timeline"]:
                why = routing_reason(event["detail"], Translator("en"), "en")  # where its stock was reserved, why
                print(f"   {event['at']}  {event['kind']}" + (f"  ({why})" if why else ""))
        mats_after = _stock(inventory, "PRAYER-MAT", "riyadh-dc")
        _cod_remittance(stack, store, [order_id for _title, order_id in placed])
        _sample_invoices(stack, [order_id for _title, order_id in placed])
        print(f"\nPrayer mats at riyadh-dc before/after the refused order: on_hand {mats_before.on_hand}/"
              f"{mats_after.on_hand}, reserved {mats_before.reserved}/{mats_after.reserved} (unchanged)")

        # Omar's two parcels are told about in one message, minutes after they left: let those minutes pass.
        fire_now(stack.cloud, stack.pollers, "send_shipped_digest")
        deadline = time.monotonic() + 30
        # confirmations (sent once the stock is reserved), 3 shipped (Omar's two parcels in one), 4 delivered; and
        # the store pickup's and the backorder's (fulfilment.MESSAGES)
        expected = 3 + 3 + 4 + fulfilment.MESSAGES
        while len(stack.outbox()) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # let the notifier settle: a duplicate would show up here
        outbox = stack.outbox()
        print(f"\nOutbox ({len(outbox)} messages, {stack.cloud.lambdas.invocations['dawra-notify']} notify "
              f"invocations, {carrier.sent} carrier webhooks):")
        for message in outbox:
            subject = f" | {message.subject}" if message.subject else ""
            print(f"   {message.channel:5} to {message.to}{subject}")
            if message.channel == "sms":
                print(f"         {message.body}")
        completed = statuses.count("COMPLETED")
        print(f"\nOrders: {len(statuses)} placed over HTTP, {completed} completed (one collected at "
              f"{fulfilment.PICKUP_STORE}, one served from back order), {len(statuses) - completed} not; "
              f"2 refused at checkout")
        print(f"Done in {time.monotonic() - started:.1f} s.")
        return 0 if len(outbox) == expected and completed == len(statuses) else 1
