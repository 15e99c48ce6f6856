"""The Inventory table: catalog, locations, stock per (sku, location), reservations per (order, sku, location).

`available` is stored beside on_hand and reserved so a reservation is one conditional update (available >= qty);
every stock move changes two of the three counters in one update (see unit_of_work.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import fields, values
from dawra.domain.allocation import Location
from dawra.domain.errors import CatalogProblem
from dawra.domain.inventory import Reservation, StockLevel
from dawra.domain.pricing import CatalogItem


class DynamoInventory:
    def __init__(self, table: str, client: Any = None):
        self.table = Table(table, client)

    # --- InventoryRepository --------------------------------------------------------------------------------------
    def catalog(self, skus: Sequence[str]) -> dict[str, CatalogItem]:
        return {item["sku"]: _catalog_item(item) for item in self.table.batch_get([keys.catalog_key(s) for s in skus])}

    def locations(self) -> list[Location]:
        return [Location.model_validate(fields(item)) for item in self.table.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values(pk=keys.LOCATIONS_PK),
            ConsistentRead=True)]

    def available(self, skus: Sequence[str], location_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        items = self.table.batch_get([keys.stock_key(sku, loc) for sku in skus for loc in location_ids])
        return {(item["sku"], item["location_id"]): item["available"] for item in items}

    def stock(self, sku: str, location_id: str) -> StockLevel | None:
        item = self.table.get(keys.stock_key(sku, location_id))
        return StockLevel.model_validate(fields(item)) if item else None

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
        self.table.put({**keys.stock_key(sku, location_id), "sku": sku, "location_id": location_id,
                        "on_hand": on_hand, "reserved": 0, "available": on_hand})


def _catalog_item(item: dict[str, Any]) -> CatalogItem:
    """A catalog item as stored; one the merchant's data makes unsellable is a CatalogProblem naming the sku."""
    try:
        return CatalogItem.model_validate(fields(item))
    except ValidationError as invalid:
        why = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors())
        raise CatalogProblem(str(item.get("sku") or item["pk"].removeprefix("SKU#")), why) from None
