"""A flash sale on the in-memory fakes, with the races made certain: orders are reserved in rounds of threads that
all read the stock before any of them commits (a barrier inside the stock read), so each round's losers commit on
counters that moved, are refused (ConcurrentChange), read again and are decided on what is left. The commit is one
at a time, as DynamoDB applies a transaction. The same sale on the embedded cloud's DynamoDB, 1,000 orders with
races as they fall: tests/integration/test_flash_sale_concurrency.py."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fakes import FakeInventory

from dawra.app.reserve import ReserveStock
from dawra.domain.errors import ConcurrentChange, OutOfStock

SKU, LOCATION = "DATES-1KG", "riyadh-dc"


class ReadTogether(FakeInventory):
    """Each thread's first stock read waits until the whole round has read (then all go on to commit)."""

    def __init__(self, world, round_size: int):
        super().__init__(world)
        self.barrier, self.local = threading.Barrier(round_size), threading.local()

    def levels(self, skus, location_ids):
        read = super().levels(skus, location_ids)
        if not getattr(self.local, "read", False):
            self.local.read = True
            self.barrier.wait(timeout=10)
        return read


class OneCommitAtATime:
    """The fake unit of work, its commits serialised and the ones refused for a race counted."""

    def __init__(self, uow):
        self.uow, self.lock, self.races = uow, threading.Lock(), 0

    def commit(self, **change):
        with self.lock:
            try:
                self.uow.commit(**change)
            except ConcurrentChange:
                self.races += 1
                raise


def sell(shop, quantities: list[int]) -> tuple[dict[str, str], int]:
    """Reserve one round of orders (one thread each, all reading before any commits): order id -> outcome, races."""
    order_ids = [shop.place({SKU: q}, key=f"flash-{len(shop.world.headers):04d}-{i:02d}",
                            customer_id=f"cust-flash-{len(shop.world.headers)}-{i}") for i, q in enumerate(quantities)]
    uow = OneCommitAtATime(shop.uow)
    reserve = ReserveStock(shop.orders, ReadTogether(shop.world, len(order_ids)), uow, shop.clock)

    def one(order_id: str) -> str:
        try:
            reserve(order_id)
            return "reserved"
        except OutOfStock:
            return "refused"

    with ThreadPoolExecutor(max_workers=len(order_ids)) as pool:  # fresh threads: each reads first in this round
        outcomes = dict(zip(order_ids, pool.map(one, order_ids), strict=True))
    return outcomes, uow.races


def held(shop) -> dict[str, int]:
    return {r.order_id: r.quantity for r in shop.world.reservations.values() if r.state.value == "held"}


def test_rounds_of_racing_orders_sell_exactly_the_stock_and_retry_every_lost_race(shop):
    shop.world.stock = {key: level for key, level in shop.world.stock.items() if key[0] != SKU}
    shop.world.set_stock(SKU, LOCATION, 11)

    first, races = sell(shop, [1] * 8)  # all read 11: every hold still fits (available >= 1), none races
    assert list(first.values()) == ["reserved"] * 8 and races == 0
    second, races = sell(shop, [2] * 8)  # all read 3: one takes 2, seven lose, read 1 again, refused
    assert sorted(second.values()) == ["refused"] * 7 + ["reserved"] and races == 7
    third, races = sell(shop, [1] * 4)  # all read 1: one takes it, three lose, read 0, refused
    assert sorted(third.values()) == ["refused"] * 3 + ["reserved"] and races == 3

    level = shop.stock(SKU, LOCATION)
    assert (level.on_hand, level.reserved, level.available) == (11, 11, 0)
    reserved = {order_id for outcomes in (first, second, third) for order_id, outcome in outcomes.items()
                if outcome == "reserved"}
    assert set(held(shop)) == reserved and sum(held(shop).values()) == 11  # each reserved once, nothing else held
    assert all(shop.orders.get(order_id).status.value == "ALLOCATED" for order_id in reserved)
    refused = {order_id for outcomes in (first, second, third) for order_id in outcomes} - reserved
    assert all(shop.orders.get(order_id).status.value == "CONFIRMED" for order_id in refused)
