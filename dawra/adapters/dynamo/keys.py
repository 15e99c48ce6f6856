"""Every key shape in Dawra's tables, and nothing else.

Orders table (pk, sk):
    ORDER#<order_id>         ORDER                                   the order header
                             SHIPMENT#<shipment_id>                  a shipment (+ resume token while waiting)
                             EVENT#<event_id>                        a timeline event (the stream feeds notify)
                             TRACKING#<carrier>#<tracking>#<event>   a carrier report already applied
                             MESSAGE#<event_id>#<channel>            a customer message's send claim
    IDEMPOTENCY#<key hash>   IDEMPOTENCY                             which order a checkout key made
    REJECTED#<YYYY-MM-DD>    <received at>#<message id>              a carrier webhook rejected (TTL: 7 days)
Index by-tracking-number (KEYS_ONLY) on the shipment's tracking_number.

Inventory table (pk, sk):
    SKU#<sku>                CATALOG | STOCK#<location_id>
    LOCATION                 LOC#<location_id>
    RESERVATION#<order_id>   <sku>#<location_id>
"""

from __future__ import annotations

ORDER_SK = "ORDER"
# Sort keys between these two hold the header and the shipments (EVENT# < MESSAGE# < ORDER < SHIPMENT# < TRACKING#).
AGGREGATE_RANGE = ("ORDER", "SHIPMENT$")


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def order_id_of(pk: str) -> str:
    return pk.removeprefix("ORDER#")


def order_key(order_id: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": ORDER_SK}


def shipment_key(order_id: str, shipment_id: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"SHIPMENT#{shipment_id}"}


def shipment_id_of(sk: str) -> str:
    return sk.removeprefix("SHIPMENT#")


def event_key(order_id: str, event_id: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"EVENT#{event_id}"}


def applied_report_key(order_id: str, dedup_key: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"TRACKING#{dedup_key}"}


def message_key(order_id: str, message: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"MESSAGE#{message}"}


def idempotency_key(key_hash: str) -> dict[str, str]:
    return {"pk": f"IDEMPOTENCY#{key_hash}", "sk": "IDEMPOTENCY"}


def rejection_key(day: str, received_at: str, message_id: str) -> dict[str, str]:
    return {"pk": f"REJECTED#{day}", "sk": f"{received_at}#{message_id}"}


def catalog_key(sku: str) -> dict[str, str]:
    return {"pk": f"SKU#{sku}", "sk": "CATALOG"}


def stock_key(sku: str, location_id: str) -> dict[str, str]:
    return {"pk": f"SKU#{sku}", "sk": f"STOCK#{location_id}"}


LOCATIONS_PK = "LOCATION"


def location_key(location_id: str) -> dict[str, str]:
    return {"pk": LOCATIONS_PK, "sk": f"LOC#{location_id}"}


def reservations_pk(order_id: str) -> str:
    return f"RESERVATION#{order_id}"


def reservation_key(order_id: str, sku: str, location_id: str) -> dict[str, str]:
    return {"pk": reservations_pk(order_id), "sk": f"{sku}#{location_id}"}


# The `entity` attribute says what an item is (the notifier's stream filter reads it).
ENTITY_ORDER, ENTITY_SHIPMENT, ENTITY_TIMELINE, ENTITY_MARKER = "order", "shipment", "timeline", "marker"
KEY_ATTRIBUTES = frozenset({"pk", "sk", "entity"})
TTL_ATTRIBUTE = "expires_at"  # epoch seconds; DynamoDB deletes the item some time after
