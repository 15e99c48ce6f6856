"""What the stream consumers share: a batch processor for ordered streams that stops at a record's first failure.
Apart from dawra/entrypoints.py so that a stream consumer does not import the event handler, nor an HTTP function
the batch utility (decision 101)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, FailureResponse, SuccessResponse


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
