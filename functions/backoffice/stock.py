"""Admin API: stock per SKU x location, adjustments with a reason, transfers between locations, their receipt,
quarantined units written off or released to sellable, and the operations figures. Every change is audited in the
same commit as the counters."""

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from office import caller, office

from dawra.app.stock import StockOutcome, StockView
from dawra.contracts import admin
from dawra.domain.operations import OperationsFigures

router = APIGatewayRouter()
Key = Annotated[str, Header(alias="idempotency-key", min_length=8, max_length=128,
                            description="Unique per change; a replay returns the first result and acts once")]
Name = Annotated[str | None, Query(max_length=64)]


@router.get("/admin/api/stock", summary="Stock per SKU x location: on hand, reserved, available, in transit, quarantined")
def levels(sku: Name = None, location_id: Name = None) -> StockView:
    return office.stock.levels(caller(router), sku=sku, location_id=location_id)


@router.post("/admin/api/stock/adjustments", summary="Adjust a stock level, with a reason")
def adjust(body: Annotated[admin.StockAdjustment, Body()], key: Key) -> StockOutcome:
    return office.stock.adjust(caller(router), key, body.sku, body.location_id, body.delta, body.reason)


@router.post("/admin/api/stock/quarantine/write-offs", summary="Write off quarantined units, with a reason")
def write_off(body: Annotated[admin.QuarantineAction, Body()], key: Key) -> StockOutcome:
    return office.stock.write_off(caller(router), key, body.sku, body.location_id, body.quantity, body.reason)


@router.post("/admin/api/stock/quarantine/releases", summary="Release quarantined units to sellable, with a reason")
def release(body: Annotated[admin.QuarantineAction, Body()], key: Key) -> StockOutcome:
    return office.stock.release(caller(router), key, body.sku, body.location_id, body.quantity, body.reason)


@router.post("/admin/api/stock/transfers", summary="Send units to another location (in transit until received)")
def transfer(body: Annotated[admin.StockTransferRequest, Body()], key: Key) -> StockOutcome:
    return office.stock.transfer(caller(router), key, body.sku, body.from_location, body.to_location,
                                 body.quantity, body.reason)


@router.post("/admin/api/stock/transfers/<transfer_id>/receive", summary="Receive a transfer at its destination")
def receive(transfer_id: Annotated[str, Path(pattern=r"^trf_[a-f0-9]{32}$")],
            body: Annotated[admin.ReceiptRequest, Body()], key: Key) -> StockOutcome:
    return office.stock.receive(caller(router), key, transfer_id, body.reason)


@router.get("/admin/api/operations", summary="How fulfilment is going: figures from the orders' timelines")
def operations(days: Annotated[int, Query(ge=1, le=90)] = 30) -> OperationsFigures:
    return office.operations(caller(router), datetime.now(UTC), days)
