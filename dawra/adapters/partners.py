"""The partner-outbound queue (SQS): where partners (3PLs, dropshippers) take the shipments they prepare from."""

from __future__ import annotations

from typing import Any

from dawra.adapters import aws
from dawra.adapters.errors import transient_errors


class SqsPartnerOutbox:
    def __init__(self, queue_url: str | None, sqs: Any = None):
        self.queue_url = queue_url
        self._sqs = sqs

    def send(self, partner: str, message: str) -> None:
        if not self.queue_url:
            raise ValueError("no partner-outbound queue is configured")
        sqs = self._sqs or aws.client("sqs")
        with transient_errors("SQS SendMessage (partner outbound)"):
            sqs.send_message(QueueUrl=self.queue_url, MessageBody=message,
                             MessageAttributes={"partner": {"DataType": "String", "StringValue": partner}})
