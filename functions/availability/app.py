"""Storefront API (API Gateway REST, Lambda proxy): GET /availability, a product page's or a cart's question. A
function of its own, reading the Inventory table only: however often product pages ask, checkout's function and
its concurrency are not touched. Parse, call, answer."""

from typing import Annotated

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths

from dawra.bootstrap import build_availability
from dawra.contracts import problems
from dawra.contracts.availability_api import (
    AVAILABILITY_RESPONSES,
    answer_body,
    answer_headers,
    parse_query,
    query_problem,
)
from dawra.contracts.env import settings
from dawra.domain.delivery_options import MAX_AGE_S, MAX_SKUS, AvailabilityAnswer
from dawra.entrypoints import on_error, problem, rest_resolver
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
app = rest_resolver(logger)
availability = build_availability(settings())


@on_error(app, RequestValidationError)  # replaces the resolver's 422: every bad query is the same 400
def bad_query(error: RequestValidationError) -> Response[str]:
    return problem(*query_problem(error.errors()))


@app.get("/availability", summary="Stock per location and delivery options to a destination, per SKU",
         description=f"Up to {MAX_SKUS} SKUs a request; answers are at most {MAX_AGE_S} seconds old.",
         responses=AVAILABILITY_RESPONSES)
@tracer.capture_method
def get_availability(
    sku: Annotated[list[str], Query(description=f"A SKU, repeated for each (or comma-separated); 1 to {MAX_SKUS}",
                                    examples=["MUG-CLASSIC"])],
    country: Annotated[str, Query(description="Where to: ISO 3166-1 alpha-2, a country the shop delivers to",
                                  examples=["SA"])],
    city: Annotated[str | None, Query(description="The destination's city, for same day, scheduled slots and "
                                                  "pickup nearby", examples=["Riyadh"])] = None,
) -> Response[AvailabilityAnswer]:
    skus, destination = parse_query(app.current_event.multi_value_query_string_parameters)
    answer = availability(skus, destination)
    return Response(status_code=200, content_type="application/json", body=answer_body(answer),
                    headers=answer_headers(answer))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return problems.guard_api_event(event) or app.resolve(event, context)
