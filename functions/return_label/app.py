"""A return's label (PDF), and an order's tax invoices and credit notes (PDF, decision 87), behind their own HTTP API
(API Gateway v2, no authorizer, payload format 2.0), for the order page's "Download the label" and invoice PDF links
(decision 78). An HTTP API answers the bytes as they are, whatever the browser's Accept header, where the REST API
would answer base64 text. The link's token in the path is the credential: the order page's own `label_download`
(dawra/web/customer.py) checks it and draws the label or the document (kept in the documents bucket once drawn); any
other path, link, return or document is the same 404 problem. Reads the order, the locations, the link's key."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

from dawra.bootstrap import build_return_label
from dawra.contracts.env import settings
from dawra.tracing import function_tracer
from dawra.web.customer import CustomerSite
from dawra.web.http import http_api_response, request_from_http_api_event

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
parts = build_return_label(settings())
site = CustomerSite(parts.open_link, None, parts.links, None, logger, locations=parts.locations,
                    invoices=parts.invoices)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)  # customer data: never in a trace
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return http_api_response(site.label_download(request_from_http_api_event(event)))
