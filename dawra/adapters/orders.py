"""The Orders table: one partition per order holding its header, shipments, timeline and markers.

    pk = ORDER#<order_id>   sk = ORDER                         the header (Order)
                            sk = SHIPMENT#<shipment_id>        a Shipment (+ task_token while waiting)
                            sk = EVENT#<event_id>              a TimelineEvent (the stream feeds notify)
                            sk = TRACKING#<carrier>#<event_id> a carrier event already applied (dedup)
                            sk = MESSAGE#<event_id>            a message already sent for that event
"""

from __future__ import annotations

from typing import Any

from dawra.adapters.dynamo import ConditionFailed, DynamoStore, from_item, to_item, transact_write, values
from dawra.models import Order, Shipment, TimelineEvent


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


class OrdersStore(DynamoStore):
    # --- reads ----------------------------------------------------------------------------------------------------
    def get_order(self, order_id: str) -> Order | None:
        found = self.get_order_with_fingerprint(order_id)
        return found[0] if found else None

    def get_order_with_fingerprint(self, order_id: str) -> tuple[Order, str | None] | None:
        """The order header and the fingerprint of the checkout request that created it."""
        response = self.client.get_item(TableName=self.table, Key=to_item({"pk": order_pk(order_id), "sk": "ORDER"}),
                                        ConsistentRead=True)
        if "Item" not in response:
            return None
        item = from_item(response["Item"])
        return Order.model_validate(_strip(item)), item.get("request_fingerprint")

    def load(self, order_id: str) -> tuple[Order | None, list[Shipment], list[TimelineEvent]]:
        """The whole aggregate in one (paginated) query."""
        order, shipments, events = None, [], []
        for item in self._query_partition(order_id):
            kind = item["sk"].split("#", 1)[0]
            data = _strip(item)
            if kind == "ORDER":
                order = Order.model_validate(data)
            elif kind == "SHIPMENT":
                shipments.append(Shipment.model_validate(data))
            elif kind == "EVENT":
                events.append(TimelineEvent.model_validate(data))
        events.sort(key=lambda event: (event.at, event.event_id))
        shipments.sort(key=lambda shipment: shipment.shipment_id)
        return order, shipments, events

    def get_shipment(self, order_id: str, shipment_id: str) -> tuple[Shipment, dict[str, Any]] | None:
        response = self.client.get_item(
            TableName=self.table,
            Key=to_item({"pk": order_pk(order_id), "sk": f"SHIPMENT#{shipment_id}"}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return None
        raw = from_item(item)
        return Shipment.model_validate(_strip(raw)), raw

    def find_shipment_by_tracking(self, tracking_number: str) -> tuple[str, str] | None:
        """(order_id, shipment_id) for a tracking number, through the by-tracking-number index."""
        response = self.client.query(
            TableName=self.table,
            IndexName="by-tracking-number",
            KeyConditionExpression="tracking_number = :t",
            ExpressionAttributeValues=values(t=tracking_number),
        )
        for item in response.get("Items", []):
            data = from_item(item)
            return data["order_id"], data["shipment_id"]
        return None

    def _query_partition(self, order_id: str):
        kwargs = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": values(pk=order_pk(order_id)),
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**kwargs)
            for item in response.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # --- transaction items ----------------------------------------------------------------------------------------
    def put_order(self, order: Order, **stored_alongside: Any) -> dict:
        item = {"pk": order_pk(order.order_id), "sk": "ORDER", "entity": "order", **order.model_dump(mode="json"),
                **stored_alongside}
        return {"Put": {"TableName": self.table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    def put_event(self, event: TimelineEvent) -> dict:
        item = {"pk": order_pk(event.order_id), "sk": f"EVENT#{event.event_id}", "entity": "timeline",
                **event.model_dump(mode="json")}
        return {"Put": {"TableName": self.table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    def put_shipment(self, shipment: Shipment) -> dict:
        item = {"pk": order_pk(shipment.order_id), "sk": f"SHIPMENT#{shipment.shipment_id}", "entity": "shipment",
                **shipment.model_dump(mode="json")}
        return {"Put": {"TableName": self.table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    def update_order(self, order_id: str, set_fields: dict[str, Any], *, expect_status: list[str]) -> dict:
        """SET the given top-level fields and bump the version, only while the order is in one of `expect_status`."""
        clause, names, vals = _set_clause(set_fields)
        statuses = {f"s{i}": status for i, status in enumerate(expect_status)}
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_item({"pk": order_pk(order_id), "sk": "ORDER"}),
                "UpdateExpression": f"{clause}, #version = #version + :one",
                "ConditionExpression": f"#status IN ({', '.join(':' + k for k in statuses)})",
                "ExpressionAttributeNames": {**names, "#version": "version", "#status": "status"},
                "ExpressionAttributeValues": {**vals, **values(one=1, **statuses)},
            }
        }

    def update_shipment(self, order_id: str, shipment_id: str, set_fields: dict[str, Any], *,
                        condition: str, condition_values: dict[str, Any]) -> dict:
        clause, names, vals = _set_clause(set_fields)
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_item({"pk": order_pk(order_id), "sk": f"SHIPMENT#{shipment_id}"}),
                "UpdateExpression": clause,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {**names, "#status": "status"},
                "ExpressionAttributeValues": {**vals, **values(**condition_values)},
            }
        }

    def put_marker(self, order_id: str, sk: str, data: dict[str, Any]) -> dict:
        item = {"pk": order_pk(order_id), "sk": sk, "entity": "marker", **data}
        return {"Put": {"TableName": self.table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    # --- single writes --------------------------------------------------------------------------------------------
    def transact(self, items: list[dict], token: str | None = None) -> None:
        transact_write(self.client, items, token)

    def claim(self, order_id: str, sk: str, data: dict[str, Any]) -> bool:
        """Conditionally create a marker item; False when it already exists."""
        put = self.put_marker(order_id, sk, data)["Put"]
        try:
            self.client.put_item(**put)
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def delete_marker(self, order_id: str, sk: str) -> None:
        self.client.delete_item(TableName=self.table, Key=to_item({"pk": order_pk(order_id), "sk": sk}))

    def set_marker_fields(self, order_id: str, sk: str, fields: dict[str, Any]) -> None:
        clause, names, vals = _set_clause(fields)
        self.client.update_item(TableName=self.table, Key=to_item({"pk": order_pk(order_id), "sk": sk}),
                                UpdateExpression=clause, ExpressionAttributeNames=names, ExpressionAttributeValues=vals)

    def store_task_token(self, order_id: str, shipment_id: str, token: str) -> Shipment:
        """Put the WaitForDelivery task token on the shipment; returns the shipment as it now is."""
        response = self.client.update_item(
            TableName=self.table,
            Key=to_item({"pk": order_pk(order_id), "sk": f"SHIPMENT#{shipment_id}"}),
            UpdateExpression="SET task_token = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=values(t=token),
            ReturnValues="ALL_NEW",
        )
        return Shipment.model_validate(_strip(from_item(response["Attributes"])))

    def clear_task_token(self, order_id: str, shipment_id: str, token: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=to_item({"pk": order_pk(order_id), "sk": f"SHIPMENT#{shipment_id}"}),
                UpdateExpression="REMOVE task_token",
                ConditionExpression="task_token = :t",
                ExpressionAttributeValues=values(t=token),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass


_INTERNAL = {"pk", "sk", "entity", "task_token", "request_fingerprint"}


def _set_clause(fields: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """`SET #f0 = :v0, ...` with its attribute names and (serialised) values."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    clause = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
    return clause, names, values(**{f"v{i}": value for i, value in enumerate(fields.values())})


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _INTERNAL}


__all__ = ["ConditionFailed", "OrdersStore", "order_pk"]
