"""Admin API: holds and fraud screening. The orders waiting on a kind of hold (the review queue), rejecting a held
order (approving it is `.../release`), and the checkouts the screening refused."""

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from office import ORDER, Key, OrderId, Why, acted, caller, office

from dawra.contracts import admin
from dawra.domain.holds import HoldKind

router = APIGatewayRouter()


@router.get("/admin/api/holds", summary="The orders waiting on one kind of hold, oldest first (the review queue)")
def held(kind: Annotated[HoldKind, Query()] = HoldKind.FRAUD_REVIEW,
         limit: Annotated[int, Query(ge=1, le=100)] = 100) -> admin.HeldList:
    orders = office.held_orders(caller(router), kind, limit)
    return admin.HeldList.model_validate({"orders": [admin.held_row(order) for order in orders]})


@router.post(f"{ORDER}/reject", summary="Reject a held order: cancelled through compensation (void, release, "
                                        "tell the customer); who may depends on the hold's kind")
def reject(order_id: OrderId, body: Why, key: Key) -> admin.ActionResult:
    actor = caller(router)
    return admin.ActionResult.model_validate(acted(actor, office.actions.reject(actor, order_id, key, body.reason)))


@router.get("/admin/api/refusals", summary="The checkouts the fraud screening refused on one day, newest first")
def refusals(day: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None) -> admin.RefusalList:
    day = day or datetime.now(UTC).date().isoformat()
    found = office.refusals(caller(router), day)
    return admin.RefusalList.model_validate({"day": day, "refusals": [r.model_dump(mode="json") for r in found]})
