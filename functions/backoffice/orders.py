"""Admin API: find orders, read one, place one for a customer, and one operator's audit trail."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from office import caller, office, order_file

from dawra.contracts import admin
from dawra.contracts.api import ORDER_ID_PATTERN
from dawra.ports import OrderQuery

router = APIGatewayRouter()
Text = Annotated[str | None, Query(max_length=200)]
Cursor = Annotated[str | None, Query(max_length=400)]


@router.get("/admin/api/me", summary="Who you are signed in as, your roles and what they allow")
def me() -> admin.Me:
    actor = caller(router)
    return admin.Me(user_id=actor.user_id, username=actor.username, roles=sorted(actor.roles),
                    permissions=sorted(actor.permissions), language=actor.language)


@router.get("/admin/api/orders", summary="Search orders (answered from an index, newest first)")
def search(status: Text = None, placed_from: Text = None, placed_to: Text = None, reference: Text = None,
           email: Text = None, phone: Text = None, sku: Text = None, location: Text = None,
           limit: Annotated[int, Query(ge=1, le=100)] = 25, cursor: Cursor = None) -> admin.OrderList:
    query = OrderQuery(status=status, placed_from=placed_from, placed_to=placed_to, reference=reference,
                       email=email, phone=phone, sku=sku, location=location)
    page = office.find_orders(caller(router), query, limit, cursor)
    return admin.OrderList.model_validate({"orders": [admin.order_row(o) for o in page.orders],
                                           "cursor": page.cursor})


@router.post("/admin/api/orders", summary="Place an order for a customer", status_code=201)
def place(request: Annotated[admin.AgentOrderRequest, Body()],
          key: Annotated[str, Header(alias="idempotency-key", min_length=8, max_length=128)],
          ) -> Response[admin.PlacedForCustomer]:
    placed = office.place_order(caller(router), key, request)
    body = {"order": order_file(caller(router), placed.order.order_id), "payment_link": placed.payment_link}
    return Response(status_code=201, content_type="application/json", body=body)


@router.get("/admin/api/orders/<order_id>", summary="An order: lines, payment, shipments, timeline and audit")
def detail(order_id: Annotated[str, Path(pattern=ORDER_ID_PATTERN)]) -> admin.AdminOrderView:
    return admin.AdminOrderView.model_validate(order_file(caller(router), order_id))


@router.get("/admin/api/audit", summary="The audit trail of one operator, newest first")
def audit(actor_id: Annotated[str, Query(min_length=1, max_length=128)],
          limit: Annotated[int, Query(ge=1, le=100)] = 50, cursor: Cursor = None) -> admin.AuditList:
    entries, next_cursor = office.audit_trail.by_actor(caller(router), actor_id, limit, cursor)
    return admin.AuditList.model_validate({"entries": [admin.audit_view(e) for e in entries], "cursor": next_cursor})
