"""DynamoDB item (de)serialisation and transaction helpers shared by the stores."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _dynamo(value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError("floats are not stored; use integer minor units")
    if isinstance(value, dict):
        return {k: _dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_dynamo(v) for v in value]
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_dynamo(v)) for k, v in data.items() if v is not None}


def to_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(_dynamo(value))


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def values(**kwargs: Any) -> dict[str, Any]:
    return {f":{k}": to_value(v) for k, v in kwargs.items()}


def cancellation_codes(error: ClientError) -> list[str]:
    """Per-item reasons of a cancelled transaction ('None', 'ConditionalCheckFailed', ...)."""
    reasons = error.response.get("CancellationReasons") or []
    return [reason.get("Code", "None") for reason in reasons]


def is_conditional_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def is_transaction_cancelled(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "TransactionCanceledException"


TRANSIENT_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
}


class ConditionFailed(Exception):
    """A conditional write or transaction was refused; `codes` has one reason per transaction item."""

    def __init__(self, codes: list[str]):
        super().__init__(",".join(codes))
        self.codes = codes


def transact_write(client, items: list[dict[str, Any]], token: str | None = None) -> None:
    """TransactWriteItems (all-or-nothing across tables). Raises ConditionFailed with per-item reasons."""
    kwargs: dict[str, Any] = {"TransactItems": items}
    if token:
        kwargs["ClientRequestToken"] = token[:36]
    try:
        client.transact_write_items(**kwargs)
    except ClientError as error:
        if is_transaction_cancelled(error):
            codes = cancellation_codes(error)
            if "ConditionalCheckFailed" in codes:
                raise ConditionFailed(codes) from error
            if any(code in TRANSIENT_CODES for code in codes):
                from dawra.errors import TransientError

                raise TransientError("DynamoDB transaction conflicted; retry") from error
        if error.response["Error"]["Code"] in TRANSIENT_CODES:
            from dawra.errors import TransientError

            raise TransientError(f"DynamoDB: {error.response['Error']['Code']}") from error
        raise


class DynamoStore:
    """A store over one table; the client is the cold-start cached one unless a test passes its own."""

    def __init__(self, table: str, client=None):
        self.table = table
        self._client = client

    @property
    def client(self):
        from dawra.adapters import aws

        return self._client or aws.client("dynamodb")
