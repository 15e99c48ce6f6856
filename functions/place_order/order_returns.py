"""Storefront API: a customer's return, asked for by the storefront (POST /orders/{order_id}/returns, what the order
page's return form collects, as JSON), a claim without a return (POST /orders/{order_id}/claims, what its claim form
collects) and either read back (GET .../returns/{return_id}; a claim is a return of kind claim). The same requests
as the page's: one Idempotency-Key, one return or claim, one return workflow."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dawra.bootstrap import build_storefront_returns
from dawra.contracts.api import ORDER_ID_PATTERN
from dawra.contracts.claim_api import REQUEST_CLAIM_RESPONSES, ClaimAsked
from dawra.contracts.env import settings
from dawra.contracts.return_api import (
    REQUEST_RETURN_RESPONSES,
    RETURN_ID_PATTERN,
    VIEW_RETURN_RESPONSES,
    ReturnAsked,
    ReturnView,
    return_view,
)
from dawra.domain.returns import Return

router = APIGatewayRouter()
returns = build_storefront_returns(settings())
OrderId = Annotated[str, Path(pattern=ORDER_ID_PATTERN)]


@router.post("/orders/<order_id>/returns", summary="Ask to return delivered items", status_code=201,
             responses=REQUEST_RETURN_RESPONSES)
def post_return(
    order_id: OrderId,
    asked: Annotated[ReturnAsked, Body()],
    idempotency_key: Annotated[str, Header(alias="idempotency-key", min_length=8, max_length=128,
                                           description="Unique per return request; replays return the same return")],
) -> Response[ReturnView]:
    return _created(order_id, returns.ask(order_id, idempotency_key, asked))


@router.post("/orders/<order_id>/claims", summary="Report a parcel that arrived damaged or with an item missing",
             status_code=201, responses=REQUEST_CLAIM_RESPONSES)
def post_claim(
    order_id: OrderId,
    asked: Annotated[ClaimAsked, Body()],
    idempotency_key: Annotated[str, Header(alias="idempotency-key", min_length=8, max_length=128,
                                           description="Unique per claim; replays return the same claim")],
) -> Response[ReturnView]:
    return _created(order_id, returns.claim(order_id, idempotency_key, asked))


@router.get("/orders/<order_id>/returns/<return_id>",
            summary="A return or a claim: its status, lines, estimate and refund", responses=VIEW_RETURN_RESPONSES)
def get_return(order_id: OrderId, return_id: Annotated[str, Path(pattern=RETURN_ID_PATTERN)]) -> ReturnView:
    return ReturnView.model_validate(return_view(returns.view(order_id, return_id)))


def _created(order_id: str, ret: Return) -> Response[ReturnView]:
    """201 with the return (or claim) as the API shows it, and where to read it again."""
    return Response(status_code=201, content_type="application/json", body=return_view(ret),
                    headers={"Location": f"/orders/{order_id}/returns/{ret.return_id}"})
