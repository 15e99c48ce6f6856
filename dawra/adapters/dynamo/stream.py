"""Reading the Orders table's stream: which records are timeline events, and the event each one holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dawra.adapters.dynamo import keys
from dawra.domain.timeline import TimelineEvent

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

TIMELINE_FIELDS = frozenset(TimelineEvent.model_fields)


def timeline_event(record: DynamoDBRecord) -> TimelineEvent | None:
    """The timeline event a stream record inserted, or None for any other record (updates, other items)."""
    image = (record.dynamodb.new_image if record.dynamodb else None) or {}
    if record.raw_event.get("eventName") != "INSERT" or image.get("entity") != keys.ENTITY_TIMELINE:
        return None
    return TimelineEvent.model_validate({k: v for k, v in image.items() if k in TIMELINE_FIELDS})


def stream_filter(kinds: list[str]) -> dict[str, Any]:
    """The Lambda event filter that lets through only inserted timeline events of these kinds."""
    return {"eventName": ["INSERT"],
            "dynamodb": {"NewImage": {"entity": {"S": [keys.ENTITY_TIMELINE]}, "kind": {"S": kinds}}}}


def awaiting_confirmation_filter() -> dict[str, Any]:
    """The Lambda event filter that lets through the confirmation of an order that waits for stock (a backorder, a
    preorder: told at once, with its date) and no other order's: an ordinary order is confirmed when its stock is
    reserved (dawra.domain.notifications.SENT_AS), so its placement invokes nothing."""
    return {"eventName": ["INSERT"],
            "dynamodb": {"NewImage": {"entity": {"S": [keys.ENTITY_TIMELINE]}, "kind": {"S": ["order_confirmed"]},
                                      "detail": {"M": {"awaiting": {"S": ["backorder", "preorder"]}}}}}}
