"""Admin API: replenishment. A stock item's reorder point and target (audited like every stock change), the report of
what is under its reorder point (how much to order) and the transfers suggested between locations, and a suggestion
approved into a transfer (in transit until received: /admin/api/stock/transfers/{id}/receive)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from office import caller, office

from dawra.app.replenishment import Replenishment
from dawra.app.stock import StockOutcome
from dawra.contracts import admin
from dawra.domain.replenishment import ReplenishmentPlan

router = APIGatewayRouter()
Key = Annotated[str, Header(alias="idempotency-key", min_length=8, max_length=128,
                            description="Unique per change; a replay returns the first result and acts once")]


@router.post("/admin/api/stock/plans", summary="Set a stock item's reorder point and target (replenishment)")
def set_plan(body: Annotated[admin.ReplenishmentPlanRequest, Body()], key: Key) -> StockOutcome:
    return office.stock.set_plan(caller(router), key, body.sku, body.location_id, body.reorder_point, body.target,
                                 body.reason)


@router.get("/admin/api/stock/replenishment",
            summary="Stock items under their reorder point (how much to order) and suggested transfers")
def report() -> ReplenishmentPlan:
    return _replenishment().report(caller(router))


@router.post("/admin/api/stock/replenishment/transfers",
             summary="Approve a suggested transfer: it is sent (in transit until received)")
def approve(body: Annotated[admin.SuggestedTransferApproval, Body()], key: Key) -> StockOutcome:
    return _replenishment().approve(caller(router), key, body.sku, body.from_location, body.to_location,
                                    body.quantity)


def _replenishment() -> Replenishment:
    if office.replenishment is None:  # pragma: no cover - bootstrap always builds it
        raise RuntimeError("replenishment is not configured")
    return office.replenishment
