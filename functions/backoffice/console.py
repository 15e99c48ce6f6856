"""Operators' console (API Gateway REST, Lambda proxy, no authorizer): /admin and /admin/... as HTML pages.

The console verifies its own session cookie and every form's CSRF token (dawra/web/console.py); this handler only
turns the proxy event into the console's request and its answer into the proxy result."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from dawra.bootstrap import build_console
from dawra.contracts.env import settings
from dawra.entrypoints import page_response
from dawra.tracing import function_tracer
from dawra.web.console import Console
from dawra.web.http import request_from_event

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
parts = build_console(settings())
console = Console(parts.office, parts.verify, parts.sign_in, parts.session_key, logger, parts.returns,
                  parts.invoices)


@app.route("/admin(/.*)?", method=["GET", "POST"])
@tracer.capture_method(capture_response=False)  # pages hold customer data: never in a trace
def page() -> Response[str | bytes]:
    return page_response(console.handle(request_from_event(app.current_event.raw_event)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
