"""The unit tier: domain and use cases with in-memory fakes (tests/fakes.py). boto3, botocore and moto need not be
importable here, and the tier runs in seconds."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes import (
    LINK_KEY,
    SECRET,
    FakeCarriers,
    FakeInventory,
    FakeMessenger,
    FakeOpsAlerts,
    FakeOrders,
    FakeRejections,
    FakeSecrets,
    FakeUnitOfWork,
    FakeWorkflow,
    FixedClock,
    RecordingPayments,
    World,
    request,
)

from dawra.app.checkout import Checkout
from dawra.app.compensate import AskAPerson, CancelOrder, ReleaseStock
from dawra.app.deliver import AwaitDelivery
from dawra.app.notify import Notify
from dawra.app.order_page import OrderLinks
from dawra.app.order_page import Shop as ShopDetails
from dawra.app.queries import ViewOrder
from dawra.app.reserve import ReserveStock
from dawra.app.ship import ShipShipment
from dawra.app.tracking import ApplyTracking
from dawra.local.seed import CATALOG, LOCATIONS, STOCK


@dataclass
class Shop:
    """Every use case, wired to the same in-memory world, as bootstrap wires them to AWS."""

    world: World
    clock: FixedClock
    uow: FakeUnitOfWork
    workflow: FakeWorkflow
    payments: RecordingPayments
    carriers: FakeCarriers
    messenger: FakeMessenger
    alerts: FakeOpsAlerts
    orders: FakeOrders
    inventory: FakeInventory

    def __post_init__(self):
        self.rejections = FakeRejections()
        o, i, u, c = self.orders, self.inventory, self.uow, self.clock
        self.checkout = Checkout(o, i, u, self.payments, self.alerts, c)
        self.reserve = ReserveStock(o, i, u, c)
        self.ship = ShipShipment(o, i, u, self.carriers, self.payments, c, timedelta(hours=48))
        self.await_delivery = AwaitDelivery(o, u, self.workflow)
        self.release = ReleaseStock(o, i, u)
        self.cancel = CancelOrder(o, u, self.payments, c)
        self.ask_a_person = AskAPerson(o, u, self.alerts, c)
        self.tracking = ApplyTracking(o, u, self.workflow, self.carriers, FakeSecrets({"sandbox-secret": SECRET}),
                                      {"sandbox": "sandbox-secret"}, self.rejections, c, i)
        self.links = OrderLinks(lambda: LINK_KEY, "https://shop.example/v1", ShopDetails("Dawra Test Shop",
                                                                                      "help@shop.example"), c)
        self.notify = Notify(o, o, self.messenger, c, self.links)
        self.view = ViewOrder(o)

    def place(self, lines: dict[str, int], key: str = "key-00000001", **overrides) -> str:
        return self.checkout.place_order(key, request(lines, **overrides)).order_id

    def stock(self, sku: str, location_id: str):
        return self.world.stock[(sku, location_id)]


@pytest.fixture
def shop() -> Shop:
    world = World(catalog={item.sku: item for item in CATALOG}, locations=list(LOCATIONS))
    for (sku, location_id), units in STOCK.items():
        world.set_stock(sku, location_id, units)
    return Shop(world=world, clock=FixedClock(), uow=FakeUnitOfWork(world), workflow=FakeWorkflow(),
                payments=RecordingPayments(), carriers=FakeCarriers(), messenger=FakeMessenger(),
                alerts=FakeOpsAlerts(), orders=FakeOrders(world), inventory=FakeInventory(world))
