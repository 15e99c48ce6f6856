"""What the admin API's routes share: the back office built once per cold start, and who is calling."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dawra.app.backoffice import Outcome
from dawra.bootstrap import build_backoffice
from dawra.contracts import admin
from dawra.contracts.api import ORDER_ID_PATTERN
from dawra.contracts.env import settings
from dawra.domain.access import Actor

office = build_backoffice(settings())

# What the order actions' routes take (actions.py, messages.py).
ORDER = "/admin/api/orders/<order_id>"
OrderId = Annotated[str, Path(pattern=ORDER_ID_PATTERN)]
Key = Annotated[str, Header(alias="idempotency-key", min_length=8, max_length=128,
                            description="Unique per action; a replay returns the first result and acts once")]
Why = Annotated[admin.WithReason, Body()]


def caller(router: APIGatewayRouter) -> Actor:
    """The operator API Gateway's Cognito authorizer vouched for (its claims ride in the request context)."""
    return admin.actor_from_claims(router.current_event.request_context.authorizer.claims or {})


def order_file(actor: Actor, order_id: str) -> dict:
    file = office.view_order(actor, order_id)
    return admin.admin_order_view(file.order, file.timeline, file.audit)


def acted(actor: Actor, outcome: Outcome) -> dict:
    return {"order": order_file(actor, outcome.order.order_id), "audit": admin.audit_view(outcome.audit),
            "replayed": outcome.replayed}
