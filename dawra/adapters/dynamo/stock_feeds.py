"""Stock feeds on the Inventory table: each feed's marker (`FEED#<ref>`), written once when its import starts, with
its report (compressed JSON: two thousand rows stay far below DynamoDB's 400 KB item) added once every row is
through, and a listing item (`FEEDS` / `<received at>#<ref>`) for the latest feeds."""

from __future__ import annotations

import zlib
from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import to_item, values
from dawra.adapters.errors import error_code, transient_errors
from dawra.domain.stock_feeds import FeedReport
from dawra.ports import FeedClaim

ENTITY_FEED = "stock_feed"


def _claim_of(item: dict[str, Any]) -> FeedClaim:
    packed = item.get("report")
    report = FeedReport.model_validate_json(zlib.decompress(bytes(packed))) if packed is not None else None
    return FeedClaim(feed_id=item["feed_id"], ref=item["ref"], digest=item["digest"], started_at=item["started_at"],
                     report=report)


class DynamoStockFeeds:
    def __init__(self, table: str, client: Any = None):
        self.table = Table(table, client)

    def claim(self, claim: FeedClaim) -> FeedClaim | None:
        item = {**keys.feed_key(claim.ref), "entity": ENTITY_FEED, "feed_id": claim.feed_id, "ref": claim.ref,
                "digest": claim.digest, "started_at": claim.started_at}
        try:
            with transient_errors("DynamoDB PutItem (stock feed)"):
                self.table.client.put_item(TableName=self.table.name, Item=to_item(item),
                                           ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return self.feed(claim.ref)
        return None

    def finish(self, report: FeedReport) -> None:
        packed = zlib.compress(report.model_dump_json().encode(), level=6)
        try:
            with transient_errors("DynamoDB TransactWriteItems (stock feed)"):
                self.table.client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": self.table.name, "Key": to_item(keys.feed_key(report.ref)),
                                "UpdateExpression": "SET #report = :report, received_at = :at",
                                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#report)",
                                "ExpressionAttributeNames": {"#report": "report"},
                                "ExpressionAttributeValues": values(report=packed, at=report.received_at)}},
                    {"Put": {"TableName": self.table.name,
                             "Item": to_item({**keys.feed_listing_key(report.received_at, report.ref),
                                              "entity": ENTITY_FEED, "ref": report.ref})}},
                ])
        except ClientError as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if error_code(error) == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
                return  # another import of the same feed kept its report first
            raise

    def feed(self, ref: str) -> FeedClaim | None:
        item = self.table.get(keys.feed_key(ref))
        return _claim_of(item) if item else None

    def recent(self, limit: int) -> list[FeedReport]:
        refs: list[str] = []
        for item in self.table.query(KeyConditionExpression="pk = :pk", ScanIndexForward=False, Limit=limit,
                                     ExpressionAttributeValues=values(pk=keys.FEEDS_PK)):
            refs.append(item["ref"])
            if len(refs) == limit:
                break
        found = {claim.ref: claim for claim in map(_claim_of, self.table.batch_get([keys.feed_key(r) for r in refs]))}
        return [report for ref in refs if (report := found[ref].report if ref in found else None) is not None]
