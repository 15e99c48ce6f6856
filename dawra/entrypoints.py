"""What the HTTP entry points share: a Powertools REST resolver that answers every error in the API's one shape.
The stream consumers' batch processor is dawra/streams.py: neither kind imports the other's Powertools utility."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from dawra.contracts import problems
from dawra.domain.errors import DomainError

if TYPE_CHECKING:  # the pages' own module is not imported by functions that serve none
    from dawra.web.http import WebResponse

E = TypeVar("E", bound=Exception)
ErrorHandler = Callable[[E], Response[str]]


def problem(kind: problems.Kind, body: dict[str, Any]) -> Response[str]:
    # Powertools serialises dict bodies only for application/json: a problem document is serialised here.
    return Response(status_code=kind.status, content_type=problems.PROBLEM_JSON, body=json.dumps(body),
                    headers=problems.headers(kind))


def on_error(app: APIGatewayRestResolver, error: type[E]) -> Callable[[ErrorHandler[E]], ErrorHandler[E]]:
    """`app.exception_handler(error)`, typed: Powertools leaves that decorator unannotated, which would make every
    handler it decorates untyped. It registers the handler and returns it unchanged."""
    register: Callable[[ErrorHandler[E]], ErrorHandler[E]] = app.exception_handler(error)
    return register


def rest_resolver(logger: Logger) -> APIGatewayRestResolver:
    """Validation on (OpenAPI from the route signatures); domain errors, invalid requests, unknown routes and
    anything unexpected all answered as application/problem+json."""
    app = APIGatewayRestResolver(enable_validation=True)

    @on_error(app, DomainError)
    def domain_error(error: DomainError) -> Response[str]:
        kind, body = problems.from_domain_error(error)
        logger.info("request refused", extra={"error": type(error).__name__, "status": kind.status})
        return problem(kind, body)

    @on_error(app, RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[str]:
        body = problems.from_validation(error.errors())
        return problem(problems.MALFORMED if body["status"] == 400 else problems.VALIDATION, body)

    @on_error(app, NotFoundError)
    def not_found(_: NotFoundError) -> Response[str]:
        return problem(problems.NOT_FOUND, problems.body(problems.NOT_FOUND, "no such resource"))

    @on_error(app, Exception)
    def unexpected(_: Exception) -> Response[str]:
        logger.exception("unexpected error")  # the trace, never the request body
        return problem(problems.INTERNAL, problems.body(problems.INTERNAL, "the request failed; retry it"))

    return app


def page_response(answer: WebResponse) -> Response[str | bytes]:
    """A server-rendered page's answer (the console's, the customer's) as the resolver returns it."""
    return Response(status_code=answer.status, content_type=answer.content_type, body=answer.body,
                    headers={**answer.all_headers(), **({"Set-Cookie": answer.cookies} if answer.cookies else {})})
