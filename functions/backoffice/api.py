"""Admin API (API Gateway REST behind the Cognito authorizer, Lambda proxy): /admin/api/... Operators find orders and
act on them; each use case authorises the caller's role, and every change is audited in the same commit. The routes
live in this folder's routers (orders, actions, messages, stock), the back office in office.py."""

import accounts
import actions
import feeds
import holds
import messages
import orders
import remittances
import replenishment
import stock
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

from dawra.contracts import problems
from dawra.entrypoints import rest_resolver
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
app = rest_resolver(logger)
for routes in (orders.router, actions.router, messages.router, stock.router, remittances.router, accounts.router,
               holds.router, feeds.router, replenishment.router):
    app.include_router(routes)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return problems.guard_api_event(event) or app.resolve(event, context)
