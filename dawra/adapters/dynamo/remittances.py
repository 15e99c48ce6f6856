"""Couriers' remittance files on the Orders table: each import's report (compressed JSON: a thousand rows stay far
below DynamoDB's 400 KB item), written once under its file's digest and listed newest first; and the COD parcels
still owed, from the by-lookup index (cod#owed, by delivery time: dawra.adapters.dynamo.orders.cod_lookup_items)."""

from __future__ import annotations

import zlib
from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import to_item, values
from dawra.adapters.errors import error_code, transient_errors
from dawra.domain.cod import RemittanceReport

LOOKUP_INDEX = "by-lookup"
EARLIEST = "0000"


def _packed(report: RemittanceReport) -> bytes:
    return zlib.compress(report.model_dump_json().encode(), level=6)


def _unpacked(item: dict[str, Any]) -> RemittanceReport:
    data = item["report"]
    return RemittanceReport.model_validate_json(zlib.decompress(bytes(data)))


class DynamoRemittanceImports:
    def __init__(self, table: str, client: Any = None):
        self.table = Table(table, client)

    def imported(self, digest: str) -> RemittanceReport | None:
        item = self.table.get(keys.remittance_key(digest))
        return _unpacked(item) if item else None

    def record(self, report: RemittanceReport) -> bool:
        packed = _packed(report)
        summary = {"entity": "remittance", "digest": report.digest, "imported_at": report.imported_at,
                   "report": packed}
        try:
            with transient_errors("DynamoDB TransactWriteItems (remittance)"):
                self.table.client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": self.table.name,
                             "Item": to_item({**keys.remittance_key(report.digest), **summary}),
                             "ConditionExpression": "attribute_not_exists(pk)"}},
                    {"Put": {"TableName": self.table.name,
                             "Item": to_item({**keys.remittance_listing_key(report.imported_at, report.digest),
                                              **summary})}},
                ])
        except ClientError as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if error_code(error) == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
                return False
            raise
        return True

    def recent(self, limit: int) -> list[RemittanceReport]:
        found: list[RemittanceReport] = []
        for item in self.table.query(KeyConditionExpression="pk = :pk", ScanIndexForward=False, Limit=limit,
                                     ExpressionAttributeValues=values(pk=keys.REMITTANCES_PK)):
            found.append(_unpacked(item))
            if len(found) == limit:
                break
        return found

    def unremitted(self, delivered_before: str, limit: int) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for item in self.table.query(
                IndexName=LOOKUP_INDEX, ScanIndexForward=True, Limit=limit,
                KeyConditionExpression="#lookup = :owed AND placed_at BETWEEN :low AND :high",
                ExpressionAttributeNames={"#lookup": "lookup"},
                ExpressionAttributeValues=values(owed=keys.COD_OWED, low=EARLIEST, high=delivered_before)):
            found.append((keys.order_id_of(item["pk"]), item["sk"].removeprefix("LOOKUP#cod#")))
            if len(found) == limit:
                break
        return found
