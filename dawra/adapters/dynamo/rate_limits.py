"""Rate-limit counters in the Orders table: one item per key and fixed window (`RATE#<key>` / window start), counted
with one conditional UpdateItem (ADD hits, only while under the limit) and removed by DynamoDB's TTL some time after
the window ends. The key is already a keyed digest of what is counted (never an IP address or a contact in the
clear)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import to_item, values
from dawra.adapters.errors import error_code, transient_errors
from dawra.domain.time import iso

KEPT_AFTER_WINDOW = timedelta(hours=1)


class DynamoRateLimits:
    def __init__(self, table: str, client: Any = None):
        self.table = Table(table, client)

    def hit(self, key: str, window_start: datetime, window_s: int, limit: int) -> bool:
        expires = window_start + timedelta(seconds=window_s) + KEPT_AFTER_WINDOW
        try:
            with transient_errors("DynamoDB UpdateItem (rate limit)"):
                self.table.client.update_item(
                    TableName=self.table.name, Key=to_item(keys.rate_key(key, iso(window_start))),
                    UpdateExpression="ADD hits :one SET entity = :entity, #ttl = :expires",
                    ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
                    ExpressionAttributeNames={"#ttl": keys.TTL_ATTRIBUTE},
                    ExpressionAttributeValues=values(one=1, limit=limit, entity="rate",
                                                     expires=int(expires.timestamp())))
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True
