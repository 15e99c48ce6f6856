"""The demo's delivery choices (issue 14), each through what a real user touches: what a product page shows first
(`GET /availability`), an order collected at the Jeddah store (the store's staff on the console's "Store pickup"
page, the customer's code from their message), and an order on back order that waits until the warehouse's stock
adjustment (the admin API) brings its stock, then ships and is delivered (the sandbox carrier's webhooks).
Anything that does not end as it should raises: the demo fails."""

from __future__ import annotations

import html
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from dawra.domain.cod import from_minor
from dawra.local.actors import AdminApi, SandboxCarrierSimulator, StoreDesk, Storefront
from dawra.local.seed import create_operator

if TYPE_CHECKING:
    from dawra.local.stack import LocalStack

PICKUP_STORE = "jeddah-store"
PICKUP_ORDER: dict[str, Any] = {  # Huda collects two mugs at the Jeddah store: no shipping charge
    "customer_id": "cust-huda", "contact": {"email": "huda@example.com", "preferred_channel": "email",
                                            "language": "en"},
    "shipping_address": {"name": "Huda Al-Ghamdi", "line1": "7 Tahlia St", "city": "Jeddah", "country": "SA"},
    "delivery": {"method": "pickup", "location_id": PICKUP_STORE},
    "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}], "payment_token": "tok_sandbox_approve"}
BACKORDER: dict[str, Any] = {  # Faisal orders a lantern nobody has in stock: on back order, expected in 10 days
    "customer_id": "cust-faisal", "contact": {"email": "faisal@example.com", "preferred_channel": "email",
                                              "language": "en"},
    "shipping_address": {"name": "Faisal Al-Dosari", "line1": "3 King Fahd Rd", "city": "Riyadh", "country": "SA"},
    "lines": [{"sku": "LANTERN-BRASS", "quantity": 1}], "payment_token": "tok_sandbox_approve"}
ORDERS = [("Huda: two mugs collected at the Jeddah store", PICKUP_ORDER),
          ("Faisal: a brass lantern on back order", BACKORDER)]
CODE = re.compile(r"\b([2-9A-Z]{4}-[2-9A-Z]{4})\b")  # a pickup code as the customer reads it (K7QX-M4TB)
# Messages these two orders bring: Huda's confirmation and her "ready to collect" (collected sends nothing);
# Faisal's confirmation at once with the restock date, then (once reserved) the usual confirmation, shipped and
# delivered.
MESSAGES = 2 + 4


def availability(store: Storefront) -> list[str]:
    """A product page's first call: the stock per location and each delivery option to Jeddah, earliest date."""
    answer = store.availability(["MUG-CLASSIC", "DALLAH-BRASS"], "SA", "Jeddah")
    if answer.status != 200 or not all(sku["known"] and sku["options"] for sku in answer.body["skus"]):
        raise RuntimeError(f"GET /availability answered {answer.status} {answer.body}")
    lines = ["GET /availability?sku=MUG-CLASSIC&sku=DALLAH-BRASS&country=SA&city=Jeddah "
             f"(data {answer.body['age_s']} s old, at most {answer.body['max_age_s']} s):"]
    for sku in answer.body["skus"]:
        stock = ", ".join(f"{loc['location_id']} {loc['available']}"
                          + (f" (+{loc['in_transit']} in transit)" if loc["in_transit"] else "")
                          for loc in sku["locations"])
        lines.append(f"   {sku['sku']}: {sku['available']} available ({stock})")
        for option in sku["options"]:
            extra = (f", order by {option['order_by']}" if option.get("order_by") else "") + (
                f", {len(option['slots'])} slots from {option['slots'][0]['start'][:5]}" if option.get("slots")
                else "") + (f", at {option['pickup']['name']}" if option.get("pickup") else "")
            lines.append(f"      {option['kind']:9} from {option['location_id']:12} earliest {option['earliest']}{extra}")
    return lines


def place(store: Storefront) -> list[tuple[str, str]]:
    """Place both orders as the storefront does; (title, order id) each."""
    placed = []
    for title, order in ORDERS:
        result = store.place_order(order, f"demo-{uuid.uuid4()}")
        if result.status != 201:
            raise RuntimeError(f"placing {title!r} failed: HTTP {result.status} {result.body}")
        shipping = result.body["totals"]["shipping"]
        print(f"Placed {result.body['order_id']} ({title}): {result.body['status']}, promised by "
              f"{result.body['promised_by']}, shipping {from_minor(shipping['amount'], shipping['currency'])} "
              f"{shipping['currency']}")
        placed.append((title, result.body["order_id"]))
    return placed


def _message(stack: LocalStack, to: str, subject_has: str, wait_s: float = 30) -> Any:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        found = [m for m in stack.outbox() if m.to == to and subject_has in m.subject]
        if found:
            return found[0]
        time.sleep(0.1)
    raise TimeoutError(f"no message to {to} about {subject_has!r}")


def _said(email_html: str, having: str) -> str:
    """The email's first paragraph that has `having`, as its reader sees it ("" if none)."""
    for paragraph in re.findall(r"<p[^>]*>(.*?)</p>", email_html, re.DOTALL):
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", paragraph)).split())
        if having in text:
            return text
    return ""


def _parked(stack: LocalStack, order_id: str, wait_s: float = 30) -> str:
    """WaitForStock, once the order's execution waits there: its latest state entered and not left, its task
    submitted (the task token kept on the order)."""
    sfn: Any = stack.cloud.client("stepfunctions")
    arn = stack.cloud.resolve_ref("state_machine", "order-lifecycle", "arn").replace(
        ":stateMachine:", ":execution:") + f":{order_id}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        events = sfn.get_execution_history(executionArn=arn)["events"][::-1]  # newest first
        latest: dict[str, Any] = next((e for e in events if "stateEnteredEventDetails" in e or "stateExitedEventDetails" in e), {})
        if (latest.get("stateEnteredEventDetails", {}).get("name") == "WaitForStock"
                and events[0]["type"] == "TaskSubmitted"):
            return "WaitForStock"
        time.sleep(0.1)
    raise TimeoutError(f"{order_id} never waited in WaitForStock")


def _operator(stack: LocalStack, role: str) -> Any:
    username = f"demo-{role}-{uuid.uuid4().hex[:6]}"
    return create_operator(stack.cloud, username, f"{username}@dawra.example", (role,))


def store_pickup(stack: LocalStack, store: Storefront, order_id: str) -> None:
    """The store's staff mark it ready; the customer's message has the code; a wrong code is refused, the right one
    hands it over and the order completes."""
    print(f"\nStore pickup of {order_id} at {PICKUP_STORE} (the console's Store pickup page, role store):")
    person = _operator(stack, "store")
    desk = StoreDesk(stack.gateway_url, PICKUP_STORE)
    desk.sign_in(person.username, person.password)
    shipment_id = desk.shipment(order_id, "allocated")
    ready = desk.mark_ready(order_id, shipment_id)
    if ready.status != 303:
        raise RuntimeError(f"marking {order_id} ready was refused: {ready.status} {StoreDesk.problem(ready)}")
    print(f"   marked ready by {person.username}: HTTP {ready.status}")
    message = _message(stack, PICKUP_ORDER["contact"]["email"], "ready to collect")
    found = CODE.search(message.body)
    if not found:
        raise RuntimeError("the customer's ready message has no pickup code")
    code = found.group(1)
    said = _said(message.body, code)
    print(f"   outbox: email to {message.to} | {message.subject}\n         {said}")
    wrong_code = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    wrong = desk.hand_over(order_id, shipment_id, wrong_code)
    if wrong.status != 422:
        raise RuntimeError(f"a wrong pickup code was not refused: {wrong.status}")
    print(f"   hand over for {wrong_code}: HTTP {wrong.status} {StoreDesk.problem(wrong)}")
    right = desk.hand_over(order_id, shipment_id, code)
    if right.status != 303:
        raise RuntimeError(f"the right pickup code was refused: {right.status} {StoreDesk.problem(right)}")
    order = store.wait_for(order_id, {"COMPLETED", "CANCELLED"})
    if order["status"] != "COMPLETED":
        raise RuntimeError(f"{order_id} ended {order['status']}")
    print(f"   hand over for the customer's code: HTTP {right.status}; order {order['status']}, captured "
          f"{order['payment']['captured']['amount']} of {order['totals']['total']['amount']}, shipment "
          f"{order['shipments'][0]['status']}")


def backorder(stack: LocalStack, store: Storefront, carrier: SandboxCarrierSimulator, order_id: str) -> None:
    """Confirmed at once with its restock date; waits; the warehouse's stock adjustment reserves it; it ships and
    the carrier delivers it."""
    print(f"\nBackorder {order_id} (LANTERN-BRASS, none in stock):")
    message = _message(stack, BACKORDER["contact"]["email"], "confirmed")
    order = store.get_order(order_id).body
    confirmed = next(e for e in order["timeline"] if e["kind"] == "order_confirmed")
    if order["status"] != "CONFIRMED" or confirmed["detail"].get("awaiting") != "backorder":
        raise RuntimeError(f"{order_id} is {order['status']}, not waiting for its stock: {confirmed['detail']}")
    said = _said(message.body, "back order")
    if confirmed["detail"].get("available_from", "?") not in said:
        raise RuntimeError("the backorder's confirmation does not say when the stock is expected")
    print(f"   {order['status']} at once, promised by {order['promised_by']}; outbox: email to {message.to} | "
          f"{message.subject}\n         {said}")
    print(f"   its workflow waits in {_parked(stack, order_id)} (Step Functions' execution history)")
    from dawra.local.scenario import sign_in  # (the scenario's module imports the demo's)

    person = _operator(stack, "warehouse")
    warehouse = AdminApi(stack.gateway_url, sign_in(stack, person))
    adjusted = warehouse.post("/stock/adjustments", {"sku": "LANTERN-BRASS", "location_id": "riyadh-dc", "delta": 4,
                                                     "reason": "supplier delivery"}, f"demo-{uuid.uuid4()}")
    if adjusted.status != 200:
        raise RuntimeError(f"the stock adjustment was refused: {adjusted.status} {adjusted.body}")
    print(f"   {person.username} adjusts LANTERN-BRASS at riyadh-dc by +4 (supplier delivery): "
          f"HTTP {adjusted.status}")
    order = store.wait_for(order_id, {"SHIPPED", "CANCELLED"})
    while order["status"] == "SHIPPED" and not all(s.get("tracking_number") for s in order["shipments"]):
        time.sleep(0.05)
        order = store.get_order(order_id).body
    if order["status"] != "SHIPPED":
        raise RuntimeError(f"{order_id} ended {order['status']}")
    [shipment] = order["shipments"]
    print(f"   reserved at {shipment['location_id']} and shipped ({shipment['tracking_number']}), promised by "
          f"{order['promised_by']}")
    carrier.deliver(shipment["tracking_number"])
    order = store.wait_for(order_id, {"COMPLETED", "CANCELLED"})
    if order["status"] != "COMPLETED":
        raise RuntimeError(f"{order_id} ended {order['status']}")
    print(f"   delivered: order {order['status']}")
