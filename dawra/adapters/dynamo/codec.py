"""Python values <-> DynamoDB's typed attribute values. Integers only: money never becomes a float."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from dawra.adapters.dynamo.keys import KEY_ATTRIBUTES

PACKED_BODY = "body"  # a packed item's compressed attributes (see packed)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _dynamo(value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError("floats are not stored; use integer minor units")
    if isinstance(value, dict):
        return {k: _dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_dynamo(v) for v in value]
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_dynamo(v)) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def values(**kwargs: Any) -> dict[str, Any]:
    return {f":{k}": _serializer.serialize(_dynamo(v)) for k, v in kwargs.items()}


def fields(item: dict[str, Any]) -> dict[str, Any]:
    """An item's data without its keys (a packed item's body unpacked: see :func:`packed`)."""
    data = {k: v for k, v in item.items() if k not in KEY_ATTRIBUTES}
    body = data.pop(PACKED_BODY, None)
    if body is None:
        return data  # a plain item, or one written before it was packed
    raw = body.value if hasattr(body, "value") else body  # boto3's Binary, or bytes
    return {**json.loads(zlib.decompress(bytes(raw))), **data}



def packed(data: dict[str, Any], plain: frozenset[str]) -> dict[str, Any]:
    """An item whose attributes outside `plain` (its keys, index keys and what conditions test stay plain) travel as
    one compressed JSON binary attribute: DynamoDB bills a write per started 1 KB of the item, and an order's header
    (its lines, totals, payment, documents, each amount a map with its currency) compresses to about half. Only what
    the item's readers never address in an expression may go in the body; :func:`fields` unpacks it."""
    body = {k: v for k, v in _dynamo(data).items() if k not in plain}  # _dynamo drops what is None
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return {**{k: v for k, v in data.items() if k in plain}, PACKED_BODY: zlib.compress(text.encode(), 9)}
