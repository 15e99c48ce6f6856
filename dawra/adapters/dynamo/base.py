"""What the DynamoDB adapters share: a table, its (cold-start cached, or injected) client, and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dawra.adapters import aws
from dawra.adapters.dynamo.codec import from_item, to_item
from dawra.adapters.errors import transient_errors


class Table:
    def __init__(self, name: str, client: Any = None):
        self.name = name
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("dynamodb")

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        with transient_errors("DynamoDB GetItem"):
            response = self.client.get_item(TableName=self.name, Key=to_item(key), ConsistentRead=True)
        return from_item(response["Item"]) if "Item" in response else None

    def query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a query on this table."""
        kwargs = {"TableName": self.name, **kwargs}
        while True:
            with transient_errors("DynamoDB Query"):
                response = self.client.query(**kwargs)
            yield from (from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def batch_get(self, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request: dict[str, Any] | None = {self.name: {"Keys": [to_item(k) for k in keys[start:start + 100]],
                                                "ConsistentRead": True}}
            while request:
                with transient_errors("DynamoDB BatchGetItem"):
                    response = self.client.batch_get_item(RequestItems=request)
                found.extend(from_item(item) for item in response["Responses"].get(self.name, []))
                request = response.get("UnprocessedKeys") or None
        return found

    def put(self, item: dict[str, Any]) -> None:
        with transient_errors("DynamoDB PutItem"):
            self.client.put_item(TableName=self.name, Item=to_item(item))
