import pytest

from dawra.local.pollers import matches
from dawra.topology import TOPOLOGY

NOTIFY_FILTER = TOPOLOGY.stream_event_sources[0].filter_patterns[0]


def record(event_name: str, entity: str, kind: str | None = None) -> dict:
    image = {"entity": {"S": entity}}
    if kind:
        image["kind"] = {"S": kind}
    return {"eventName": event_name, "dynamodb": {"NewImage": image}}


def test_the_notifier_only_sees_new_timeline_events_a_customer_hears_about():
    assert matches(NOTIFY_FILTER, record("INSERT", "timeline", "shipment_delivered"))
    assert matches(NOTIFY_FILTER, record("INSERT", "timeline", "stock_reserved"))  # sends the confirmation
    assert not matches(NOTIFY_FILTER, record("INSERT", "timeline", "order_confirmed"))  # placed: nothing yet
    assert not matches(NOTIFY_FILTER, record("MODIFY", "timeline", "stock_reserved"))
    assert not matches(NOTIFY_FILTER, record("INSERT", "order"))
    assert not matches(NOTIFY_FILTER, {"eventName": "INSERT", "dynamodb": {}})


def test_filter_rules_the_local_poller_cannot_emulate_are_refused():
    with pytest.raises(ValueError):
        matches({"eventName": [{"prefix": "INS"}]}, {"eventName": "INSERT"})
