"""A flash sale on one stock item: many orders reserving the same SKU at the same location at once.

Every order is placed (stored as confirmed) before the sale opens; then a pool of threads runs the real ReserveStock
use case for each, through the real DynamoDB adapters (orders, inventory, unit of work) against the embedded cloud.
Nothing is serialised above the DynamoDB request: each reservation reads the order, the locations and the stock
levels, decides and commits its TransactWriteItems while the other threads do the same, so a reservation that read
the stock before another took it commits against counters that moved (its hold is conditional: `available >= q`,
and the item still in the reorder case it was planned in) and is cancelled, then re-read and re-decided by
`retry_on_race` (docs/architecture.md "Hot SKUs").

The embedded cloud runs one DynamoDB request at a time (dawra/local/cloud.py: moto's backend is not thread-safe), so a
transaction is atomic here and never overlaps another: the cancellations counted are ConditionalCheckFailed ones
(stale reads); the TransactionConflict that real DynamoDB returns when two transactions touch the same item at the
same moment cannot happen here, and its rate on AWS is not what this measures (the design limit is documented, not
measured).

`python -m bench --only flash_sale` runs this alone and merges it into results.json; the integration test
tests/integration/test_flash_sale_concurrency.py runs it too and checks what DynamoDB holds afterwards."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.codec import to_item
from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.adapters.dynamo.orders import DynamoOrders, event_item, lookup_items, order_item
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.app.common import SystemClock
from dawra.app.reserve import ReserveStock
from dawra.domain.customer import Address, Contact
from dawra.domain.errors import OutOfStock
from dawra.domain.money import Money
from dawra.domain.order import Order, OrderLine, PaymentState, Totals
from dawra.domain.pricing import CatalogItem
from dawra.local.seed import LOCATIONS

SKU, LOCATION = "FLASH-LANTERN", "riyadh-dc"
PLACED_AT = "2026-12-02T10:00:00.000Z"
UNIT_PRICE = 4900  # SAR minor units


@dataclass
class Outcome:
    order_id: str
    quantity: int
    result: str = "pending"  # reserved | refused | failed
    error: str = ""
    transactions: list[str] = field(default_factory=list)  # each TransactWriteItems: "ok" or its cancellation reason
    decided_s: float = 0.0  # seconds from the sale's opening to this order's outcome

    @property
    def retries(self) -> int:
        """Commits that lost a race (each was re-decided: by retry_on_race on fresh reads, or by the unit of work's
        backoff for a transient reason)."""
        return sum(1 for t in self.transactions if t != "ok")


class _Watching:
    """A boto3 DynamoDB client that tells each TransactWriteItems' outcome to the order the calling thread reserves."""

    def __init__(self, client: Any):
        self._client, self._current = client, threading.local()

    @contextmanager
    def reserving(self, outcome: Outcome) -> Iterator[None]:
        self._current.outcome = outcome
        try:
            yield
        finally:
            self._current.outcome = None

    def transact_write_items(self, **kwargs: Any) -> Any:
        outcome: Outcome | None = getattr(self._current, "outcome", None)
        try:
            response = self._client.transact_write_items(**kwargs)
        except ClientError as error:
            if outcome is not None:
                reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons") or []]
                outcome.transactions.append(next((r for r in reasons if r != "None"), error.response["Error"]["Code"]))
            raise
        if outcome is not None:
            outcome.transactions.append("ok")
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class _Alerts:
    """OpsAlerts that keep what they were told (thread-safe: list.append)."""

    def __init__(self) -> None:
        self.low: list[tuple[str, str, int, int]] = []

    def alert(self, order_id: str, reason: str) -> None:  # pragma: no cover - not raised by a reservation
        pass

    def catalog_problem(self, sku: str, why: str) -> None:  # pragma: no cover - not raised by a reservation
        pass

    def low_stock(self, sku: str, location_id: str, available: int, reorder_point: int) -> None:
        self.low.append((sku, location_id, available, reorder_point))


def _sar(amount: int) -> Money:
    return Money(amount=amount, currency="SAR")


def confirmed_order(n: int, quantity: int) -> Order:
    """A confirmed order for `quantity` units of the sale's SKU, shipped to Riyadh."""
    subtotal = UNIT_PRICE * quantity
    tax = subtotal * 15 // 100
    line = OrderLine(sku=SKU, title="Ramadan lantern", quantity=quantity, unit_price=_sar(UNIT_PRICE),
                     line_total=_sar(subtotal), tax=_sar(tax))
    total = subtotal + tax
    return Order.place(
        order_id=f"ord_flash{n:027x}", customer_id=f"cust-flash-{n}", placed_at=PLACED_AT, promised_by="2026-12-06",
        contact=Contact(email="buyer@example.com"),
        shipping_address=Address(name="Buyer", line1="12 Olaya St", city="Riyadh", country="SA"),
        shipping_method="standard", lines=[line],
        totals=Totals(subtotal=_sar(subtotal), shipping=_sar(0), tax=_sar(tax), total=_sar(total)),
        payment=PaymentState(provider="sandbox", authorization_id=f"auth-flash-{n}", authorized=_sar(total),
                             captured=_sar(0), refunded=_sar(0)))


def store_placed(client: Any, table: str, placed: list[Order]) -> None:
    """The orders as checkout's commit stores them (the same items: header at version 1, timeline event, lookups),
    25 items to a BatchWriteItem: placing them is not what the sale measures, and 1,000 transactions would double
    the run on the embedded cloud."""
    items = [to_item(item) for order in placed for item in (
        {**order_item(order), "version": 1}, *map(event_item, order.new_events), *lookup_items(order))]
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


@dataclass
class Sale:
    outcomes: list[Outcome]
    stock: int
    workers: int
    wall_s: float
    low_alerts: list[tuple[str, str, int, int]]
    inventory: DynamoInventory
    reorder_point: int | None = None

    def figures(self) -> dict[str, Any]:
        reserved = [o for o in self.outcomes if o.result == "reserved"]
        transactions = [t for o in self.outcomes for t in o.transactions]
        cancelled = Counter(t for t in transactions if t != "ok")
        retries = sorted(o.retries for o in self.outcomes)
        failed = [o for o in self.outcomes if o.result == "failed"]
        sold_out = max((o.decided_s for o in reserved), default=0.0)  # the last reservation's commit
        return {
            "orders_attempted": len(self.outcomes), "workers": self.workers, "stock": self.stock,
            "reorder_point": self.reorder_point,
            "units_sold": sum(o.quantity for o in reserved), "orders_reserved": len(reserved),
            "orders_refused": sum(1 for o in self.outcomes if o.result == "refused"), "orders_failed": len(failed),
            "first_error": failed[0].error if failed else None,
            "transactions": len(transactions), "conflicts": sum(cancelled.values()),
            "conflicts_by_reason": dict(sorted(cancelled.items())),
            "conflict_rate": round(sum(cancelled.values()) / len(transactions), 4) if transactions else 0.0,
            "orders_that_retried": sum(1 for r in retries if r),
            "retries_per_order_p50": _percentile(retries, 50), "retries_per_order_p99": _percentile(retries, 99),
            "retries_per_order_max": retries[-1] if retries else 0,
            "wall_s": round(self.wall_s, 2), "sold_out_s": round(sold_out, 2),
            "reservations_per_s": round(len(reserved) / sold_out, 1) if sold_out else 0.0,
            "orders_decided_per_s": round(len(self.outcomes) / self.wall_s, 1) if self.wall_s else 0.0,
            "low_stock_alerts": len(self.low_alerts),
        }


def _percentile(ordered: list[int], p: int) -> int:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return 0
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)]


def run(cloud: Any, *, orders: int = 1000, stock: int = 137, workers: int = 32, doubles_every: int = 10,
        reorder_point: int | None = 25) -> Sale:
    """The sale on a running EmbeddedCloud: `stock` units of SKU at LOCATION, `orders` orders (every
    `doubles_every`-th for 2 units, the rest for 1), `workers` threads reserving at once."""
    client = cloud.client("dynamodb")
    orders_table = cloud.resolve_ref("table", "orders", "name")
    inventory_table = cloud.resolve_ref("table", "inventory", "name")
    inventory = DynamoInventory(inventory_table, client)
    inventory.put_location(next(loc for loc in LOCATIONS if loc.location_id == LOCATION))  # the sale's only one
    inventory.put_catalog_item(CatalogItem(sku=SKU, title="Ramadan lantern", titles={"ar": "فانوس رمضان"},
                                           unit_price=_sar(UNIT_PRICE), weight_g=900, category="homeware"))
    inventory.set_stock(SKU, LOCATION, stock)
    if reorder_point is not None:  # replenishment planned, as a merchant does for a sale item (the low alert once)
        client.update_item(TableName=inventory_table, Key=to_item(keys.stock_key(SKU, LOCATION)),
                           UpdateExpression="SET reorder_point = :r, target = :t",
                           ExpressionAttributeValues=to_item({":r": reorder_point, ":t": stock}))
    outcomes = [Outcome(order_id="", quantity=2 if doubles_every and n % doubles_every == doubles_every - 1 else 1)
                for n in range(orders)]
    placed = [confirmed_order(n, outcome.quantity) for n, outcome in enumerate(outcomes)]
    for outcome, order in zip(outcomes, placed, strict=True):
        outcome.order_id = order.order_id
    store_placed(client, orders_table, placed)

    watching, alerts = _Watching(client), _Alerts()
    reserve = ReserveStock(DynamoOrders(orders_table, watching), DynamoInventory(inventory_table, watching),
                           DynamoUnitOfWork(orders_table, inventory_table, watching), SystemClock(), alerts)
    started: list[float] = []
    start = threading.Barrier(workers, action=lambda: started.append(time.perf_counter()))

    def reserve_one(outcome: Outcome) -> None:
        with watching.reserving(outcome):
            try:
                reserve(outcome.order_id)
                outcome.result = "reserved"
            except OutOfStock:
                outcome.result = "refused"
            except Exception as error:  # noqa: BLE001 - a figure of the bench (and a failure of the test)
                outcome.result, outcome.error = "failed", f"{type(error).__name__}: {error}"
            outcome.decided_s = time.perf_counter() - started[0]

    def worker(mine: list[Outcome]) -> None:
        start.wait()  # every worker starts together: the sale opens at once
        for outcome in mine:
            reserve_one(outcome)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(worker, [outcomes[i::workers] for i in range(workers)]))
    wall = time.perf_counter() - started[0]
    return Sale(outcomes=outcomes, stock=stock, workers=workers, wall_s=wall, low_alerts=alerts.low,
                inventory=inventory, reorder_point=reorder_point)


def tables_only_cloud() -> Any:
    """The embedded cloud with only the topology's tables (its DynamoDB as every test and handler gets it: one request
    at a time, dawra/local/transactions.py): a reservation here is the use case called in-process, no Lambda, so
    nothing else is created."""
    from dawra.local.cloud import EmbeddedCloud
    from dawra.topology import TOPOLOGY

    empty = {name: () for name in type(TOPOLOGY).model_fields if name not in ("tables", "parameters")}
    return EmbeddedCloud(topology=TOPOLOGY.model_copy(update=empty))


def measure(orders: int = 1000, stock: int = 137, workers: int = 32) -> dict[str, Any]:
    """The sale on a fresh embedded cloud: its figures (bench/results.json's `flash_sale`)."""
    with tables_only_cloud() as cloud:
        sale = run(cloud, orders=orders, stock=stock, workers=workers)
        figures = sale.figures()
        level = sale.inventory.stock(SKU, LOCATION)
        figures["left_available"] = level.available if level else None
    return figures
