"""Invoice and credit note numbers under concurrency, on the embedded cloud's DynamoDB: threads capture shipments
of many orders (and refund some) at once, each through the DynamoDB unit of work; every number is used exactly once,
in order, with no gap, and exists only with the capture or refund that took it."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.orders import DynamoOrders
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.domain.allocation import Pick
from dawra.domain.customer import Address, Contact
from dawra.domain.errors import ConcurrentChange
from dawra.domain.money import Money
from dawra.domain.order import Order, OrderLine, PaymentState, Totals
from dawra.domain.tax_documents import DocumentKind
from dawra.local.cloud import EmbeddedCloud

ORDERS, PARCELS = 12, 2
AT = "2026-12-01T10:00:00.000Z"


def sar(amount: int) -> Money:
    return Money(amount=amount, currency="SAR")


@pytest.fixture(scope="module")
def cloud():
    with EmbeddedCloud() as running:
        yield running


@pytest.fixture(scope="module")
def parts(cloud):
    name = cloud.resolve_ref("table", "orders", "name")
    client = cloud.client("dynamodb")
    return DynamoOrders(name, client), DynamoUnitOfWork(name, None, client), Table(name, client)


def allocated(repo: DynamoOrders, uow: DynamoUnitOfWork, n: int) -> str:
    """An order of two parcels (two locations), reserved and stored."""
    lines = [OrderLine(sku=sku, title=sku, quantity=1, unit_price=sar(10000), line_total=sar(10000), tax=sar(1500))
             for sku in ("MUG-CLASSIC", "PRAYER-MAT")]
    total = 2 * 11500 + 2875
    order = Order.place(
        order_id=f"ord_{n:032x}", customer_id="c", placed_at=AT, promised_by="2026-12-05",
        contact=Contact(email="sara@example.com"),
        shipping_address=Address(name="Sara", line1="12 Olaya St", city="Riyadh", country="SA"),
        shipping_method="standard", lines=lines,
        totals=Totals(subtotal=sar(20000), shipping=sar(2500), tax=sar(3375), total=sar(total)),
        payment=PaymentState(provider="sandbox", authorization_id=f"auth-{n}", authorized=sar(total),
                             captured=sar(0), refunded=sar(0)))
    order.reserve([Pick(location_id="riyadh-dc", sku="MUG-CLASSIC", quantity=1),
                   Pick(location_id="jeddah-store", sku="PRAYER-MAT", quantity=1)],
                  lambda order_id, location: f"shp-{order_id[-6:]}-{location}", AT)
    uow.commit(order=order)
    return order.order_id


def ship(repo: DynamoOrders, uow: DynamoUnitOfWork, order_id: str, shipment_id: str) -> None:
    """ShipShipment's commit: the parcel leaves and its share is captured, the invoice with it."""
    for _ in range(50):
        order = repo.get(order_id)
        assert order is not None
        order.ship(shipment_id, carrier="sandbox", tracking_number=f"T-{shipment_id}", label_url="", at=AT)
        try:
            uow.commit(order=order)
            return
        except ConcurrentChange:  # the order's other parcel committed first: read it again (retry_on_race)
            continue
    raise AssertionError(f"{shipment_id} never committed")


def refund(repo: DynamoOrders, uow: DynamoUnitOfWork, order_id: str, ref: str) -> None:
    for _ in range(50):
        order = repo.get(order_id)
        assert order is not None
        order.refund(sar(1150), AT, ref)
        try:
            uow.commit(order=order)
            return
        except ConcurrentChange:
            continue
    raise AssertionError(f"refund {ref} never committed")


def numbers(series: str, found: list[str]) -> list[int]:
    return sorted(int(number.rsplit("-", 1)[1]) for number in found if number.startswith(series))


def test_concurrent_captures_and_refunds_use_every_number_once_without_gaps(parts):
    repo, uow, table = parts
    order_ids = [allocated(repo, uow, n) for n in range(ORDERS)]
    shipments = [(order_id, s.shipment_id) for order_id in order_ids for s in repo.get(order_id).shipments]
    assert len(shipments) == ORDERS * PARCELS
    start = threading.Barrier(8)  # the first eight captures leave together

    def capture(job: tuple[str, str]) -> None:
        if job in shipments[:8]:
            start.wait()
        ship(repo, uow, *job)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(capture, shipments))
        # then refunds of the first orders, racing each other for credit note numbers
        list(pool.map(lambda order_id: refund(repo, uow, order_id, f"r-{order_id[-4:]}"), order_ids[:6]))

    orders = [repo.get(order_id) for order_id in order_ids]
    listed = [ref.number for order in orders for ref in order.documents]
    assert len(listed) == len(set(listed))  # no number twice
    assert numbers("INV-2026", listed) == list(range(1, ORDERS * PARCELS + 1))  # no gap
    assert numbers("CN-2026", listed) == list(range(1, 7))
    assert table.get(keys.counter_key("INV-2026"))["last"] == ORDERS * PARCELS
    assert table.get(keys.counter_key("CN-2026"))["last"] == 6
    for order in orders:
        assert order.payment.captured == order.totals.total
        invoiced = Counter()
        for ref in order.documents:
            document = repo.tax_document(order.order_id, ref.number)
            assert document is not None and document.number == ref.number and document.order_id == order.order_id
            if document.kind == DocumentKind.INVOICE:
                invoiced.update(document.shipment_ids)
                assert document.gross == order.shipment(document.shipment_ids[0]).amount.amount
            else:
                assert document.gross == 1150 and set(document.refers_to) <= {r.number for r in order.documents}
        assert invoiced == Counter({s.shipment_id: 1 for s in order.shipments})


def test_a_commit_refused_for_another_reason_takes_no_number(parts):
    repo, uow, table = parts
    order_id = allocated(repo, uow, 999)
    first, second = repo.get(order_id), repo.get(order_id)
    shipment_id = first.shipments[0].shipment_id
    before = table.get(keys.counter_key("INV-2026"))["last"]
    first.ship(shipment_id, carrier="sandbox", tracking_number="T-a", label_url="", at=AT)
    uow.commit(order=first)
    second.ship(shipment_id, carrier="sandbox", tracking_number="T-b", label_url="", at=AT)
    with pytest.raises(ConcurrentChange):  # the same parcel shipped by a stale copy: refused, no number taken
        uow.commit(order=second)
    assert table.get(keys.counter_key("INV-2026"))["last"] == before + 1
    assert [ref.number for ref in repo.get(order_id).documents] == [f"INV-2026-{before + 1:06d}"]
