"""What the entry points share: a Powertools REST resolver that answers every error in the API's one shape."""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from dawra.contracts import problems
from dawra.domain.errors import DomainError


def problem(kind: problems.Kind, body: dict) -> Response:
    # Powertools serialises dict bodies only for application/json: a problem document is serialised here.
    return Response(status_code=kind.status, content_type=problems.PROBLEM_JSON, body=json.dumps(body),
                    headers=problems.headers(kind))


def rest_resolver(logger: Logger) -> APIGatewayRestResolver:
    """Validation on (OpenAPI from the route signatures); domain errors, invalid requests, unknown routes and
    anything unexpected all answered as application/problem+json."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response:
        kind, body = problems.from_domain_error(error)
        logger.info("request refused", extra={"error": type(error).__name__, "status": kind.status})
        return problem(kind, body)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        body = problems.from_validation(error.errors())
        return problem(problems.MALFORMED if body["status"] == 400 else problems.VALIDATION, body)

    @app.exception_handler(NotFoundError)
    def not_found(_: NotFoundError) -> Response:
        return problem(problems.NOT_FOUND, problems.body(problems.NOT_FOUND, "no such resource"))

    @app.exception_handler(Exception)
    def unexpected(_: Exception) -> Response:
        logger.exception("unexpected error")  # the trace, never the request body
        return problem(problems.INTERNAL, problems.body(problems.INTERNAL, "the request failed; retry it"))

    return app
