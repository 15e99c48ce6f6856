"""What the entry points share: a Powertools REST resolver that answers every error in the API's one shape, and a
batch processor for ordered streams that stops at a record's first failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, FailureResponse, SuccessResponse

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


class StoppedAtFirstFailure(Exception):
    """A stream record left unprocessed because one before it failed; the retry from that record delivers it."""


class InOrderStreamProcessor(BatchProcessor):
    """Partial batch responses for a DynamoDB stream, processing records in order and stopping at the first failure.

    Lambda retries a stream batch from its lowest failed sequence number, so the records after a failure come back
    whatever happened to them. Processing them anyway would do their work twice, and a side effect that could not be
    recorded (a message sent whose "sent" mark was throttled) would then happen twice. They are reported failed,
    untouched, instead."""

    def __init__(self) -> None:
        super().__init__(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)

    def _process_record(self, record: dict[str, Any]) -> SuccessResponse | FailureResponse:
        if self.fail_messages:
            error = StoppedAtFirstFailure("a record before this one failed; it is retried with that one")
            return self.failure_handler(record=self._to_batch_type(record, self.event_type, self.model),
                                        exception=(StoppedAtFirstFailure, error, None))
        return super()._process_record(record)
