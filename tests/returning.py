"""What the returns' unit tests share: orders delivered in the in-memory shop (tests/unit/conftest.py), every returns
use case wired to the same world, and the people who act in the back office."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fakes import SECRET, FakeAuditLog, FakeCarrier

from dawra.adapters.carriers.sandbox import sign
from dawra.app.returns import (
    CloseReturn,
    DecideReturn,
    EstimateReturn,
    ExpireReturnLabel,
    ExpireReturnRequest,
    InspectReturn,
    IssueReturnLabel,
    ReceiveReturn,
    RefundReturn,
    RequestReturn,
    ReturnableLines,
    ReturnOnItsWay,
    ShipReplacement,
    WaitForReturn,
)
from dawra.domain.access import Actor, Role
from dawra.domain.returns import RefundMethod, ReturnMethod, ReturnReason, ReturnRequest
from dawra.domain.time import iso

AGENT = Actor(user_id="u-agent", username="agent@dawra.example", roles=frozenset({Role.AGENT}))
WAREHOUSE = Actor(user_id="u-wh", username="warehouse@dawra.example", roles=frozenset({Role.WAREHOUSE}))
MANAGER = Actor(user_id="u-mgr", username="manager@dawra.example", roles=frozenset({Role.MANAGER}))


def report(shop: Any, number: str, status: str) -> str:
    """A signed sandbox carrier webhook about `number`, received now (the shop's clock)."""
    now = shop.clock.now()
    body = json.dumps({"event_id": f"{status}-{number}", "tracking_number": number, "status": status,
                       "occurred_at": iso(now)}).encode()
    seconds = int(now.timestamp())
    return str(shop.tracking.handle_webhook("sandbox", body, sign(body, SECRET.encode(), seconds), seconds * 1000))


def delivered(shop: Any, lines: dict[str, int], key: str = "key-00000001") -> str:
    """An order placed, reserved, shipped and delivered now; its id."""
    order_id = shop.place(lines, key=key)
    for planned in shop.reserve(order_id).shipments:
        shop.ship(order_id, planned.shipment_id)
    for shipment in shop.orders.get(order_id).shipments:
        report(shop, shipment.tracking_number, "DELIVERED")
    return order_id


def asking(lines: dict[str, tuple[int, ReturnReason]], method: ReturnMethod = ReturnMethod.LABEL,
           refund: RefundMethod = RefundMethod.ORIGINAL_PAYMENT, location: str = "riyadh-dc",
           iban: str | None = None) -> ReturnRequest:
    return ReturnRequest(lines=[(sku, quantity, reason, "") for sku, (quantity, reason) in lines.items()],
                         method=method, refund_method=refund, location_id=location, bank_account=iban)


@dataclass
class Returns:
    """Every returns use case, wired to the shop's world."""

    shop: Any

    def __post_init__(self) -> None:
        s = self.shop
        o, u, c = s.orders, s.uow, s.clock
        self.audit = FakeAuditLog(s.world)
        self.carrier = FakeCarrier(clock=c)
        i = s.inventory
        self.choices = ReturnableLines(o, c, inventory=i, pickups=self.carrier)
        self.estimate = EstimateReturn(o, c, inventory=i, pickups=self.carrier)
        self.request = RequestReturn(o, u, c, inventory=i, pickups=self.carrier)
        self.decide = DecideReturn(o, u, self.audit, s.workflow, c, inventory=i)
        self.wait = WaitForReturn(o, u, c)
        self.expire_request = ExpireReturnRequest(o, u, c)
        self.issue_label = IssueReturnLabel(o, s.inventory, u, self.carrier, c)
        self.on_its_way = ReturnOnItsWay(o, u, c)
        self.receive = ReceiveReturn(o, u, s.workflow, c)
        self.inspect = InspectReturn(o, s.inventory, u, self.audit, s.workflow, c)
        self.refund = RefundReturn(o, u, s.payments, c)
        self.expire_label = ExpireReturnLabel(o, u, c, inventory=i)
        self.ship_replacement = ShipReplacement(o, i, u, s.carriers, c)
        self.close = CloseReturn(o, u, c)

    def back(self, order_id: str, return_id: str) -> None:
        """The approved return comes back: its label (or the store), the trip, the arrival."""
        self.issue_label(order_id, return_id)
        self.receive(order_id, return_id)

    def get(self, order_id: str, return_id: str) -> Any:
        return self.shop.orders.get(order_id).return_of(return_id)
