"""The Inventory table: catalog, locations, stock per (sku, location), reservations per (order, sku, location).

    pk = SKU#<sku>              sk = CATALOG                 title, unit_price, tax_class, weight_g
    pk = SKU#<sku>              sk = STOCK#<location_id>     on_hand, reserved, available (= on_hand - reserved)
    pk = LOCATION               sk = LOC#<location_id>       name, kind, priority, region
    pk = RESERVATION#<order_id> sk = <sku>#<location_id>     quantity, shipment_id, state (held|released|shipped)

`available` is kept beside on_hand and reserved so a reservation is one conditional update (available >= qty);
every change to stock moves two of the three counters in the same update."""

from __future__ import annotations

from dawra.adapters.dynamo import DynamoStore, from_item, to_item, values
from dawra.allocation import Location
from dawra.models import CatalogItem


class InventoryStore(DynamoStore):
    # --- reads ----------------------------------------------------------------------------------------------------
    def catalog(self, skus: list[str]) -> dict[str, CatalogItem]:
        items = self._batch_get([{"pk": f"SKU#{sku}", "sk": "CATALOG"} for sku in skus])
        return {item["sku"]: CatalogItem.model_validate(_fields(item)) for item in items}

    def locations(self) -> list[Location]:
        response = self.client.query(TableName=self.table, KeyConditionExpression="pk = :pk",
                                     ExpressionAttributeValues=values(pk="LOCATION"), ConsistentRead=True)
        return [Location.model_validate(_fields(from_item(item))) for item in response.get("Items", [])]

    def available(self, skus: list[str], location_ids: list[str]) -> dict[tuple[str, str], int]:
        keys = [{"pk": f"SKU#{sku}", "sk": f"STOCK#{loc}"} for sku in skus for loc in location_ids]
        return {(item["sku"], item["location_id"]): item["available"] for item in self._batch_get(keys)}

    def stock(self, sku: str, location_id: str) -> dict | None:
        response = self.client.get_item(TableName=self.table, ConsistentRead=True,
                                        Key=to_item({"pk": f"SKU#{sku}", "sk": f"STOCK#{location_id}"}))
        return _fields(from_item(response["Item"])) if "Item" in response else None

    def reservations(self, order_id: str) -> list[dict]:
        response = self.client.query(TableName=self.table, KeyConditionExpression="pk = :pk",
                                     ExpressionAttributeValues=values(pk=f"RESERVATION#{order_id}"),
                                     ConsistentRead=True)
        return [_fields(from_item(item)) for item in response.get("Items", [])]

    def _batch_get(self, keys: list[dict]) -> list[dict]:
        found: list[dict] = []
        for start in range(0, len(keys), 100):
            request = {self.table: {"Keys": [to_item(key) for key in keys[start:start + 100]], "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                found.extend(from_item(item) for item in response["Responses"].get(self.table, []))
                request = response.get("UnprocessedKeys") or None
        return found

    # --- transaction items ----------------------------------------------------------------------------------------
    def hold(self, order_id: str, shipment_id: str, sku: str, location_id: str, quantity: int) -> list[dict]:
        """Reserve `quantity` units: decrement available (only if enough) and record the reservation (only once)."""
        return [
            {"Update": {
                "TableName": self.table,
                "Key": to_item({"pk": f"SKU#{sku}", "sk": f"STOCK#{location_id}"}),
                "UpdateExpression": "SET available = available - :q, reserved = reserved + :q",
                "ConditionExpression": "available >= :q",
                "ExpressionAttributeValues": values(q=quantity),
            }},
            {"Put": {
                "TableName": self.table,
                "Item": to_item({"pk": f"RESERVATION#{order_id}", "sk": f"{sku}#{location_id}", "order_id": order_id,
                                 "sku": sku, "location_id": location_id, "quantity": quantity,
                                 "shipment_id": shipment_id, "state": "held"}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }},
        ]

    def release(self, reservation: dict) -> list[dict]:
        """Give held units back to available stock; a reservation is released at most once."""
        return self._settle(reservation, "released",
                            "SET available = available + :q, reserved = reserved - :q")

    def consume(self, reservation: dict) -> list[dict]:
        """The units left the building with a shipment: they are no longer on hand nor reserved."""
        return self._settle(reservation, "shipped", "SET on_hand = on_hand - :q, reserved = reserved - :q")

    def _settle(self, reservation: dict, new_state: str, stock_update: str) -> list[dict]:
        sku, location_id, quantity = reservation["sku"], reservation["location_id"], reservation["quantity"]
        return [
            {"Update": {
                "TableName": self.table,
                "Key": to_item({"pk": f"SKU#{sku}", "sk": f"STOCK#{location_id}"}),
                "UpdateExpression": stock_update,
                "ConditionExpression": "reserved >= :q",
                "ExpressionAttributeValues": values(q=quantity),
            }},
            {"Update": {
                "TableName": self.table,
                "Key": to_item({"pk": f"RESERVATION#{reservation['order_id']}", "sk": f"{sku}#{location_id}"}),
                "UpdateExpression": "SET #state = :new",
                "ConditionExpression": "#state = :held",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": values(new=new_state, held="held"),
            }},
        ]

    # --- merchant data (seeding, back office) ---------------------------------------------------------------------
    def put_catalog_item(self, item: CatalogItem) -> None:
        self.client.put_item(TableName=self.table, Item=to_item(
            {"pk": f"SKU#{item.sku}", "sk": "CATALOG", **item.model_dump(mode="json")}))

    def put_location(self, location: Location) -> None:
        self.client.put_item(TableName=self.table, Item=to_item(
            {"pk": "LOCATION", "sk": f"LOC#{location.location_id}", **location.model_dump(mode="json")}))

    def set_stock(self, sku: str, location_id: str, on_hand: int) -> None:
        """Set a fresh stock level (no reservations outstanding), as a stock count would."""
        self.client.put_item(TableName=self.table, Item=to_item(
            {"pk": f"SKU#{sku}", "sk": f"STOCK#{location_id}", "sku": sku, "location_id": location_id,
             "on_hand": on_hand, "reserved": 0, "available": on_hand}))


def _fields(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in {"pk", "sk"}}
