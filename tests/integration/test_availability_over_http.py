"""The storefront's availability over HTTP on the embedded cloud (GET /availability through the local gateway to its
own function): units per location now and in transit after a real transfer, the delivery options the domain gives
at that moment, unknown SKUs; every bad query a 400 problem; at most two AWS requests uncached, none within the
maximum age, and nothing written."""

import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from stacks import operator
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.domain.delivery_options import MAX_AGE_S, Destination, StockHere, availability_of
from dawra.domain.money import Money
from dawra.domain.pricing import CatalogItem
from dawra.local.actors import http
from dawra.local.seed import LOCATIONS

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "StartExecution"}


@pytest.fixture
def inventory(local_stack):
    return DynamoInventory(local_stack.cloud.resolve_ref("table", "inventory", "name"))


@pytest.fixture
def new_sku(inventory):
    """A SKU no earlier answer has seen (answers are kept up to MAX_AGE_S), stocked at riyadh-dc and jeddah-store."""
    def make(riyadh: int = 12, jeddah: int = 4) -> str:
        sku = f"AV-{uuid.uuid4().hex[:10].upper()}"
        inventory.put_catalog_item(CatalogItem(sku=sku, title="Availability mug", titles={"ar": "كوب"},
                                               unit_price=Money(amount=4500, currency="SAR"), weight_g=300))
        inventory.set_stock(sku, "riyadh-dc", riyadh)
        inventory.set_stock(sku, "jeddah-store", jeddah)
        return sku
    return make


def ask(stack, query: list[tuple[str, str]]):
    return http("GET", f"{stack.gateway.url}/availability?{urlencode(query)}")


def ask_in_process(stack, query: list[tuple[str, str]]):
    request = Request(EnvironBuilder(method="GET", path="/availability", query_string=urlencode(query)).get_environ())
    response = stack.gateway.handle(request)
    return response.status_code, dict(response.headers), json.loads(response.get_data())


def test_units_per_location_in_transit_apart_and_the_options_of_the_moment(local_stack, new_sku):
    sku = new_sku(riyadh=12, jeddah=4)
    warehouse = operator(local_stack, "warehouse")
    sent = warehouse.post("/stock/transfers", {"sku": sku, "from_location": "riyadh-dc", "to_location":
                                               "jeddah-store", "quantity": 5, "reason": "for the store"},
                          f"key-{uuid.uuid4().hex}")
    assert sent.status == 200, sent.body
    destination = Destination(country="SA", city="Riyadh")
    stock = [StockHere(location_id="riyadh-dc", available=7), StockHere(location_id="jeddah-store", available=4,
                                                                         in_transit=5)]
    before = availability_of(sku, stock, LOCATIONS, destination, datetime.now(UTC))

    answered = ask(local_stack, [("sku", sku), ("sku", "NO-SUCH-SKU"), ("country", "SA"), ("city", "Riyadh")])
    after = availability_of(sku, stock, LOCATIONS, destination, datetime.now(UTC))

    assert answered.status == 200, answered.body
    assert answered.headers["Content-Type"] == "application/json"
    assert 0 <= int(answered.headers["Age"]) < MAX_AGE_S and answered.body["max_age_s"] == MAX_AGE_S
    mine, unknown = answered.body["skus"]
    assert unknown == {"sku": "NO-SUCH-SKU", "known": False, "available": 0, "in_transit": 0, "locations": [],
                       "options": []}
    assert [(row["location_id"], row["available"], row["in_transit"]) for row in mine["locations"]] == [
        ("riyadh-dc", 7, 0), ("jeddah-store", 4, 5)]
    assert (mine["available"], mine["in_transit"]) == (11, 5)
    kinds = [option["kind"] for option in mine["options"]]
    assert {"standard", "express", "scheduled", "pickup"} <= set(kinds)
    pickup = next(option for option in mine["options"] if option["kind"] == "pickup")
    assert pickup["location_id"] == "jeddah-store" and set(pickup["pickup"]["hours"]) == {"en", "ar"}
    if before == after:  # not across a cut-off or midnight while asking: exactly the domain's answer
        assert mine == after.model_dump(mode="json")


@pytest.mark.parametrize(("query", "field"), [
    ([("country", "SA")], "query.sku"),
    ([("sku", "MUG-CLASSIC")], "query.country"),
    ([("sku", "MUG-CLASSIC"), ("country", "FR")], "query.country"),
    ([("skus", "MUG-CLASSIC"), ("sku", "MUG-CLASSIC"), ("country", "SA")], "query.skus"),
    ([("sku", ",".join(f"S{n}" for n in range(21))), ("country", "SA")], "query.sku"),
    ([("sku", "MUG CLASSIC"), ("country", "SA")], "query.sku"),
])
def test_a_bad_query_is_a_400_problem_naming_the_parameter(local_stack, query, field):
    refused = ask(local_stack, query)
    assert refused.status == 400, refused.body
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.body["code"] == "invalid_query" and [e["path"] for e in refused.body["errors"]] == [field]


def test_two_aws_requests_uncached_none_within_the_maximum_age_and_nothing_written(local_stack, new_sku, aws_calls):
    skus = [new_sku(), new_sku()]
    query = [*(("sku", sku) for sku in skus), ("country", "SA"), ("city", "Jeddah")]
    aws_calls.clear()

    status, headers, first = ask_in_process(local_stack, query)

    assert status == 200 and [a["known"] for a in first["skus"]] == [True, True]
    assert set(aws_calls) <= {"Query", "BatchGetItem"} and aws_calls.count("BatchGetItem") == 1
    assert len(aws_calls) <= 2  # the locations (unless kept) and the skus' catalog and stock items, one request
    aws_calls.clear()

    status, headers, again = ask_in_process(local_stack, list(reversed(query)))

    assert status == 200 and aws_calls == []  # within the maximum age: from what the function keeps
    assert [a["sku"] for a in again["skus"]] == list(reversed(skus))
    assert headers["Age"] == str(again["age_s"]) and again["age_s"] < MAX_AGE_S
    assert datetime.fromisoformat(again["as_of"]) <= datetime.now(UTC)
    assert not WRITES & set(aws_calls)


def test_the_openapi_document_describes_the_route(local_stack):
    document = http("GET", f"{local_stack.gateway.url}/docs/openapi.json")
    if document.status != 200:
        pytest.skip("the local gateway serves no OpenAPI document here")
    operation = document.body["paths"]["/availability"]["get"]
    assert {p["name"]: p["required"] for p in operation["parameters"]} == {"sku": True, "country": True,
                                                                           "city": False}
    assert set(operation["responses"]) == {"200", "400", "500", "503"}
