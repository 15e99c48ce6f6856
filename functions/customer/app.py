"""The customer's order page (API Gateway REST, Lambda proxy, no authorizer): /my-order/... as HTML pages and forms,
/customer/... as JSON for a storefront. Every request is checked by dawra/web/customer.py itself: the signed link,
the forms' CSRF tokens, the guest lookup's limits. This handler only turns events into its requests and answers."""

from typing import Annotated

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.logging import correlation_paths

from dawra.bootstrap import build_customer_site
from dawra.contracts import problems
from dawra.contracts.customer import (
    CUSTOMER_ORDER_RESPONSES,
    ORDER_LINK_RESPONSES,
    CustomerOrderView,
    LinkRequested,
    OrderLinkRequest,
)
from dawra.contracts.env import settings
from dawra.entrypoints import page_response, rest_resolver
from dawra.tracing import function_tracer
from dawra.web.customer import CustomerSite, bearer, source_of
from dawra.web.http import request_from_event
from dawra.web.security import NO_STORE, SECURITY_HEADERS

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
app = rest_resolver(logger)
parts = build_customer_site(settings())
site = CustomerSite(parts.open_link, parts.send_link, parts.links, parts.actions, logger, parts.give_feedback,
                    parts.returns, parts.locations, label_base=settings().label_url_base, invoices=parts.invoices)
PRIVATE = {**SECURITY_HEADERS, **NO_STORE}  # customer data: never cached, never in a referrer


@app.get("/customer/order", summary="The order a link opens, as its page shows it", responses=CUSTOMER_ORDER_RESPONSES)
@tracer.capture_method(capture_response=False)  # customer data: never in a trace
def customer_order(authorization: Annotated[str | None, Header(
        description="Bearer <the token of the order's link>: the last segment of /my-order/<token>")] = None,
) -> Response[CustomerOrderView]:
    return Response(status_code=200, content_type="application/json", headers=PRIVATE,
                    body=site.order_json(bearer(authorization)))  # a CustomerOrderView, as JSON


@app.post("/customer/order-link", summary="Send an order's link to its contact (guest lookup)", status_code=202,
          responses=ORDER_LINK_RESPONSES)
@tracer.capture_method(capture_response=False)
def order_link(request: Annotated[OrderLinkRequest, Body()]) -> Response[LinkRequested]:
    site.send_link(request.reference, request.contact, source_of(app.current_event.raw_event))
    return Response(status_code=202, content_type="application/json", body=LinkRequested().model_dump())


@app.route("(/my-order(/.*)?|/customer/static/.+)", method=["GET", "POST"], include_in_schema=False)
@tracer.capture_method(capture_response=False)
def page():  # no return annotation: Powertools would serialise a return label's PDF bytes as JSON text
    event = app.current_event.raw_event
    return page_response(site.handle(request_from_event(event), source_of(event)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    is_json_post = event.get("httpMethod") == "POST" and str(event.get("path", "")).startswith("/customer/")
    return (problems.guard_api_event(event) if is_json_post else None) or app.resolve(event, context)
