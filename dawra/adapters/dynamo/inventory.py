"""The Inventory table: catalog, locations, stock per (sku, location), reservations per (order, sku, location),
transfers between locations.

`available` is stored beside on_hand and reserved so a reservation is one conditional update (available >= qty);
every stock move changes two of the three counters in one update (see unit_of_work.py). `in_transit` counts units a
transfer sent to a location that it has not received yet (absent on items written before transfers: 0);
`quarantined` counts returned units set aside at inspection, not part of on hand (absent on older items: 0).

The stock screen reads a location's stock items and open transfers from the by-location index (keys only, then the
items by key, strongly consistent), and a sku's stock items straight from its partition. Nothing here scans."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import fields, from_item, to_item, values
from dawra.adapters.errors import transient_errors
from dawra.domain.allocation import Location
from dawra.domain.errors import CatalogProblem
from dawra.domain.inventory import Reservation, StockLevel, Transfer, TransferState
from dawra.domain.pricing import CatalogItem

if TYPE_CHECKING:  # built only by checkout's read (risk_counter): the other functions reading stock do not load it
    from dawra.domain.risk import Counter

LOCATION_INDEX = "by-location"


class DynamoInventory:
    """`locations_max_age_s` > 0 keeps the locations read for that long (the storefront's: checkout reads them on
    every order, and they change rarely); 0 reads them every time (the reservation's, which must see them as they
    are)."""

    def __init__(self, table: str, client: Any = None, *, locations_max_age_s: float = 0,
                 orders_table: str | None = None):
        """orders_table: where the risk counters are (checkout's `catalog_stock_and_counters`)."""
        self.table = Table(table, client)
        self.orders_table = Table(orders_table, client) if orders_table else None
        self.locations_max_age_s = locations_max_age_s
        self._locations: tuple[float, list[Location]] | None = None  # (read at, monotonic seconds; locations)

    # --- InventoryRepository --------------------------------------------------------------------------------------
    def catalog(self, skus: Sequence[str]) -> dict[str, CatalogItem]:
        return {item["sku"]: _catalog_item(item) for item in self.table.batch_get([keys.catalog_key(s) for s in skus])}

    def locations(self) -> list[Location]:
        cached = self._locations
        if cached is not None and time.monotonic() - cached[0] < self.locations_max_age_s:
            return list(cached[1])
        found = [Location.model_validate(fields(item)) for item in self.table.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values(pk=keys.LOCATIONS_PK),
            ConsistentRead=True)]
        if self.locations_max_age_s > 0:
            self._locations = (time.monotonic(), found)
        return list(found)

    def available(self, skus: Sequence[str], location_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        items = self.table.batch_get([keys.stock_key(sku, loc) for sku in skus for loc in location_ids])
        return {(item["sku"], item["location_id"]): item["available"] for item in items}

    def levels(self, skus: Sequence[str], location_ids: Sequence[str]) -> dict[tuple[str, str], StockLevel]:
        items = self.table.batch_get([keys.stock_key(sku, loc) for sku in skus for loc in location_ids])
        return {(item["sku"], item["location_id"]): StockLevel.model_validate(fields(item)) for item in items}

    def catalog_and_stock(self, skus: Sequence[str], location_ids: Sequence[str]
                          ) -> tuple[dict[str, CatalogItem], dict[tuple[str, str], int]]:
        """One BatchGetItem for both: a sku's catalog item and its stock items share its partition (SKU#<sku>).
        Up to 100 keys a request: 1 + locations per sku (an order of 25 skus kept at 3 locations is one request)."""
        items = self.table.batch_get([key for sku in skus for key in (
            keys.catalog_key(sku), *(keys.stock_key(sku, loc) for loc in location_ids))])
        catalog = {item["sku"]: _catalog_item(item) for item in items if item["sk"] == keys.CATALOG_SK}
        available = {(item["sku"], item["location_id"]): item["available"] for item in items
                     if item["sk"] != keys.CATALOG_SK}
        return catalog, available

    def skus_and_levels(self, skus: Sequence[str], location_ids: Sequence[str]
                        ) -> tuple[frozenset[str], dict[tuple[str, str], StockLevel]]:
        """AvailabilityReads: which skus the catalog has and their stock items, in one BatchGetItem (a sku's catalog
        item and stock items share its partition; up to 100 keys a request: 20 skus at 4 locations is one). The
        catalog items are not parsed: one the merchant's data makes unsellable still counts as known."""
        items = self.table.batch_get([key for sku in skus for key in (
            keys.catalog_key(sku), *(keys.stock_key(sku, loc) for loc in location_ids))])
        known = frozenset(item["sku"] for item in items if item["sk"] == keys.CATALOG_SK)
        return known, {(item["sku"], item["location_id"]): StockLevel.model_validate(fields(item)) for item in items
                       if item["sk"] != keys.CATALOG_SK}

    def catalog_stock_and_counters(self, skus: Sequence[str], location_ids: Sequence[str], counters: Sequence[str]
                                   ) -> tuple[dict[str, CatalogItem], dict[tuple[str, str], int], dict[str, Counter]]:
        """The catalog, the stock and the risk counters in one BatchGetItem spanning both tables (up to 100 keys a
        request: an order of 20 skus kept at 3 locations and 4 counters is one request; the counters are read
        eventually consistent, as nothing depends on the very last order)."""
        if self.orders_table is None or not counters:
            catalog, available = self.catalog_and_stock(skus, location_ids)
            return catalog, available, {}
        stock_keys = [key for sku in skus for key in (
            keys.catalog_key(sku), *(keys.stock_key(sku, loc) for loc in location_ids))]
        wanted = [(self.table.name, key) for key in stock_keys] + [
            (self.orders_table.name, keys.risk_key(name)) for name in counters]
        found = _batch_get_across(self.table.client, wanted, consistent={self.table.name})
        items = found.get(self.table.name, [])
        catalog = {item["sku"]: _catalog_item(item) for item in items if item["sk"] == keys.CATALOG_SK}
        available = {(item["sku"], item["location_id"]): item["available"] for item in items
                     if item["sk"] != keys.CATALOG_SK}
        return catalog, available, {keys.risk_key_of(item["pk"]): risk_counter(item)
                                    for item in found.get(self.orders_table.name, [])}

    def stock(self, sku: str, location_id: str) -> StockLevel | None:
        item = self.table.get(keys.stock_key(sku, location_id))
        return StockLevel.model_validate(fields(item)) if item else None

    # --- StockRecords ---------------------------------------------------------------------------------------------
    def levels_at(self, location_id: str) -> list[StockLevel]:
        items = self.table.batch_get(self._listed(location_id, keys.STOCK_LISTING))
        return sorted((StockLevel.model_validate(fields(item)) for item in items), key=lambda level: level.sku)

    def levels_of(self, sku: str) -> list[StockLevel]:
        prefix = keys.stock_key(sku, "")  # SKU#<sku>, STOCK#
        return [StockLevel.model_validate(fields(item)) for item in self.table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :stock)",
            ExpressionAttributeValues=values(pk=prefix["pk"], stock=prefix["sk"]), ConsistentRead=True)]

    def transfers_to(self, location_id: str) -> list[Transfer]:
        items = self.table.batch_get(self._listed(location_id, keys.TRANSFER_LISTING))
        transfers = (Transfer.model_validate(fields(item)) for item in items)
        # The index is eventually consistent: a transfer received a moment ago may still be listed.
        open_here = (t for t in transfers if t.to_location == location_id and t.state == TransferState.IN_TRANSIT)
        return sorted(open_here, key=lambda t: (t.sent_at, t.transfer_id))

    def transfer(self, transfer_id: str) -> Transfer | None:
        item = self.table.get(keys.transfer_key(transfer_id))
        return Transfer.model_validate(fields(item)) if item else None

    def _listed(self, location_id: str, kind: str) -> list[dict[str, str]]:
        """The keys of what the by-location index lists under a location, of one kind (stock or transfers)."""
        return [{"pk": item["pk"], "sk": item["sk"]} for item in self.table.query(
            IndexName=LOCATION_INDEX, KeyConditionExpression="#at = :at AND begins_with(#listing, :kind)",
            ExpressionAttributeNames={"#at": keys.AT_LOCATION, "#listing": keys.LISTING},
            ExpressionAttributeValues=values(at=location_id, kind=kind))]

    def reservations(self, order_id: str) -> list[Reservation]:
        return [Reservation.model_validate(fields(item)) for item in self.table.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values(pk=keys.reservations_pk(order_id)),
            ConsistentRead=True)]

    # --- merchant data (seeding; the back office later) -----------------------------------------------------------
    def put_catalog_item(self, item: CatalogItem) -> None:
        self.table.put({**keys.catalog_key(item.sku), **item.model_dump(mode="json")})

    def put_location(self, location: Location) -> None:
        self.table.put({**keys.location_key(location.location_id), **location.model_dump(mode="json")})

    def set_stock(self, sku: str, location_id: str, on_hand: int) -> None:
        """Set a fresh stock level (no reservations outstanding), as a stock count would."""
        self.table.put({**keys.stock_key(sku, location_id), **keys.stock_listing(location_id, sku), "sku": sku,
                        "location_id": location_id, "on_hand": on_hand, "reserved": 0, "available": on_hand,
                        "in_transit": 0, "quarantined": 0})


def risk_counter(item: dict[str, Any]) -> Counter:
    """A RISK# item as the screening counts it: its orders, refusals and velocity buckets (`w<seconds>_<index>`)."""
    from dawra.domain.risk import Counter

    return Counter(orders=int(item.get("orders", 0)), refusals=int(item.get("refusals", 0)),
                   buckets={k: int(v) for k, v in item.items() if k.startswith("w") and k[1:2].isdigit()})


def _batch_get_across(client: Any, wanted: list[tuple[str, dict[str, str]]], consistent: set[str]
                      ) -> dict[str, list[dict[str, Any]]]:
    """BatchGetItem over several tables: 100 keys a request, unprocessed keys asked again."""
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(wanted), 100):
        request: dict[str, Any] = {}
        for table, key in wanted[start:start + 100]:
            request.setdefault(table, {"Keys": [], "ConsistentRead": table in consistent})["Keys"].append(to_item(key))
        while request:
            with transient_errors("DynamoDB BatchGetItem"):
                response = client.batch_get_item(RequestItems=request)
            for table, items in response["Responses"].items():
                found.setdefault(table, []).extend(from_item(item) for item in items)
            request = response.get("UnprocessedKeys") or {}
    return found


def _catalog_item(item: dict[str, Any]) -> CatalogItem:
    """A catalog item as stored; one the merchant's data makes unsellable is a CatalogProblem naming the sku."""
    try:
        return CatalogItem.model_validate(fields(item))
    except ValidationError as invalid:
        why = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors())
        raise CatalogProblem(str(item.get("sku") or item["pk"].removeprefix("SKU#")), why) from None
