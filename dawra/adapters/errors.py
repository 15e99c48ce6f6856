"""AWS errors, classified once: throttling, 5xx and connection trouble are transient (TransientError, which the ASL
retries and the API answers with 503 and Retry-After); everything else is a bug or a domain outcome the caller
handles where it expects it (a condition failure, a used task token)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from dawra.domain.errors import TransientError

THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "RequestLimitExceeded", "RequestThrottled", "SlowDown",
    "LimitExceededException", "TransactionInProgressException", "TransactionConflictException",
})
SERVER_CODES = frozenset({"InternalServerError", "InternalFailure", "ServiceUnavailable", "InternalError"})
CONNECTION_ERRORS = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ConnectTimeoutError)


def error_code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code


def is_transient(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(error) in THROTTLING_CODES | SERVER_CODES or status >= 500


@contextmanager
def transient_errors(what: str) -> Iterator[None]:
    """Inside this block, a transient AWS failure becomes TransientError naming `what` (never the payload)."""
    try:
        yield
    except ClientError as error:
        if is_transient(error):
            raise TransientError(f"{what}: {error_code(error) or 'server error'}") from error
        raise
    except CONNECTION_ERRORS as error:
        raise TransientError(f"{what}: {type(error).__name__}") from error
