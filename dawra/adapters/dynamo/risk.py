"""The risk screening's records in the Orders table: refused checkouts (`REFUSED#<day>` / `<at>#<id>`, kept
`REFUSALS_KEPT` by DynamoDB's TTL, no personal data in the clear). The counters are read with checkout's catalog
read (dawra/adapters/dynamo/inventory.py) and written in commits (unit_of_work.py: the RiskCount marker)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import fields, to_item, values
from dawra.adapters.errors import transient_errors
from dawra.domain.risk import Refusal

REFUSALS_KEPT = timedelta(days=30)


class DynamoRiskRecords:
    def __init__(self, table: str, client: Any = None):
        self.table = Table(table, client)

    def record_refusal(self, refusal: Refusal) -> None:
        at = datetime.fromisoformat(refusal.at)
        item = {**keys.refusal_key(refusal.at[:10], refusal.at, refusal.refusal_id), "entity": keys.ENTITY_REFUSAL,
                keys.TTL_ATTRIBUTE: int((at + REFUSALS_KEPT).timestamp()), **refusal.model_dump(mode="json")}
        with transient_errors("DynamoDB PutItem (refusal)"):
            self.table.client.put_item(TableName=self.table.name, Item=to_item(item))

    def refusals(self, day: str) -> list[Refusal]:
        return [Refusal.model_validate({k: v for k, v in fields(item).items() if k != keys.TTL_ATTRIBUTE})
                for item in self.table.query(KeyConditionExpression="pk = :pk",
                                             ExpressionAttributeValues=values(pk=f"REFUSED#{day}"),
                                             ScanIndexForward=False)]
