"""The back office's scenario on the local stack: a morning's orders in every state an operator deals with.

`make up` seeds it so the console has something to show; the browser and integration tests seed it and check the
console's figures against `Scenario.expected_counts` (the operations view must show exactly these)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dawra.adapters.identity import CognitoSignIn
from dawra.local.actors import AdminApi, SandboxCarrierSimulator, Storefront
from dawra.local.demo import customer
from dawra.local.seed import Operator, seed_operators

if TYPE_CHECKING:
    from dawra.local.stack import LocalStack

AGENT_CUSTOMER_PHONE = "+966555123456"


@dataclass
class Scenario:
    completed: list[str] = field(default_factory=list)  # delivered on time
    cancelled: list[str] = field(default_factory=list)  # placed with a payment link never paid; the agent cancels
    in_transit: list[str] = field(default_factory=list)  # shipped, not delivered yet
    on_hold: str = ""  # placed by the agent for a customer on the phone, two lines, held before shipping
    payment_link_order: str = ""  # placed by the agent with a payment link: on hold awaiting payment
    agent_customer: str = AGENT_CUSTOMER_PHONE

    @property
    def expected_counts(self) -> dict[str, int]:
        return {"COMPLETED": len(self.completed), "CANCELLED": len(self.cancelled),
                "SHIPPED": len(self.in_transit), "ON_HOLD": 2}

    @property
    def placed(self) -> int:
        return sum(self.expected_counts.values())


STOREFRONT_ORDERS: list[tuple[str, dict[str, Any]]] = [
    ("completed", {"customer_id": "cust-sara", **customer("Sara Al-Otaibi", "sara@example.com"),
                   "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}], "payment_token": "tok_sandbox_approve"}),
    ("completed", {"customer_id": "cust-omar", **customer("عمر الحربي", "omar@example.com", phone="+966501234567",
                                                          channel="sms", language="ar", city="Jeddah"),
                   "shipping_method": "express",
                   "lines": [{"sku": "DALLAH-BRASS", "quantity": 1}, {"sku": "DATES-1KG", "quantity": 2}],
                   "payment_token": "tok_sandbox_approve"}),
    ("in_transit", {"customer_id": "cust-huda", **customer("هدى القحطاني", "huda@example.com", language="ar"),
                    "lines": [{"sku": "DATES-1KG", "quantity": 1}], "payment_token": "tok_sandbox_approve"}),
]
AGENT_ORDER: dict[str, Any] = {
    "customer_id": "cust-khalid", **customer("Khalid Al-Shehri", "khalid@example.com", phone=AGENT_CUSTOMER_PHONE),
    "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}, {"sku": "DATES-1KG", "quantity": 2}],
    "payment": "cash_on_delivery", "hold_reason": "Customer confirms the delivery day by phone"}
# Checkout refuses an order the stock cannot cover (409), so the scenario's cancellation is an agent's: a payment
# link the customer never paid.
UNPAID_ORDER: dict[str, Any] = {
    "customer_id": "cust-lina", **customer("Lina <b>Haddad</b>", "lina@example.com"),
    "lines": [{"sku": "PRAYER-MAT", "quantity": 1}], "payment": "payment_link"}
LINK_ORDER: dict[str, Any] = {
    "customer_id": "cust-noura", **customer("نورة العتيبي", "noura@example.com", phone="+966500000001",
                                            language="ar"),
    "lines": [{"sku": "DALLAH-BRASS", "quantity": 1}], "payment": "payment_link"}


def seed_backoffice_scenario(store: Storefront, carrier: SandboxCarrierSimulator, agent: AdminApi) -> Scenario:
    """Place every order and drive it to where the scenario wants it. The catalog and stock must be seeded."""
    scenario = Scenario()
    for outcome, order in STOREFRONT_ORDERS:
        placed = store.place_order(order, f"scenario-{uuid.uuid4()}")
        if placed.status != 201:
            raise RuntimeError(f"the scenario's order was refused: {placed.status} {placed.body}")
        order_id = placed.body["order_id"]
        view = store.wait_for(order_id, {"SHIPPED", "CANCELLED"})
        while view["status"] == "SHIPPED" and not all(s.get("tracking_number") for s in view["shipments"]):
            time.sleep(0.05)  # every parcel of a split order is booked before the carrier reports on it
            view = store.get_order(order_id).body
        if outcome == "completed":
            for shipment in view["shipments"]:
                carrier.deliver(shipment["tracking_number"])
            store.wait_for(order_id, {"COMPLETED"})
        elif outcome == "in_transit":
            carrier.post(view["shipments"][0]["tracking_number"], "PICKED_UP")
        getattr(scenario, outcome).append(order_id)
    for attribute, order in (("on_hold", AGENT_ORDER), ("payment_link_order", LINK_ORDER)):
        placed = agent.post("/orders", order, key=f"scenario-{uuid.uuid4()}")
        if placed.status != 201:
            raise RuntimeError(f"the agent's order was refused: {placed.status} {placed.body}")
        order_id = placed.body["order"]["order_id"]
        store.wait_for(order_id, {"ON_HOLD"})
        setattr(scenario, attribute, order_id)
    placed = agent.post("/orders", UNPAID_ORDER, key=f"scenario-{uuid.uuid4()}")
    if placed.status != 201:
        raise RuntimeError(f"the agent's order was refused: {placed.status} {placed.body}")
    order_id = placed.body["order"]["order_id"]
    store.wait_for(order_id, {"ON_HOLD"})
    cancelled = agent.post(f"/orders/{order_id}/cancel", {"reason": "the payment link was never paid"},
                           key=f"scenario-{uuid.uuid4()}")
    if cancelled.status != 202:
        raise RuntimeError(f"the agent's cancellation was refused: {cancelled.status} {cancelled.body}")
    store.wait_for(order_id, {"CANCELLED"})
    scenario.cancelled.append(order_id)
    return scenario


def sign_in(stack: LocalStack, operator: Operator) -> str:
    """An operator's ID token from the local pool (USER_PASSWORD_AUTH, as the console signs in)."""
    client_id = stack.cloud.resolve_ref("user_pool", stack.cloud.topology.operators_pool.id, "client_id")
    return CognitoSignIn(client_id, stack.cloud.client("cognito-idp")).sign_in(operator.username,
                                                                              operator.password).id_token


def seed_backoffice(stack: LocalStack) -> tuple[dict[str, Operator], Scenario]:
    """One operator per role (by username) and the scenario, placed by the storefront, the carrier and the agent
    over the stack's gateway. The catalog and stock must be seeded."""
    operators = {operator.username: operator for operator in seed_operators(stack.cloud)}
    carrier = SandboxCarrierSimulator(stack.gateway_url, stack.cloud.carrier_secrets["carrier-sandbox-webhook"])
    agent = AdminApi(stack.gateway_url, sign_in(stack, operators["agent"]))
    return operators, seed_backoffice_scenario(Storefront(stack.gateway_url), carrier, agent)
