"""Availability's use case (dawra.app.availability) and query (dawra.contracts.availability_api): answers from what
was read within the maximum age, at most two reads when nothing is kept, how old an answer is; every bad query a 400
problem naming the parameter."""

from datetime import UTC, datetime

import pytest
from fakes import FakeInventory, FixedClock, World

from dawra.app.availability import Availability
from dawra.contracts import problems
from dawra.contracts.availability_api import answer_headers, parse_query, query_problem
from dawra.domain.delivery_options import MAX_AGE_S, MAX_SKUS, Destination
from dawra.domain.errors import InvalidAvailabilityQuery
from dawra.domain.inventory import StockLevel
from dawra.local.seed import CATALOG, LOCATIONS

TO_RIYADH = Destination(country="SA", city="Riyadh")


class CountingInventory(FakeInventory):
    def __init__(self, world: World):
        super().__init__(world)
        self.reads: list[str] = []

    def locations(self):
        self.reads.append("locations")
        return super().locations()

    def skus_and_levels(self, skus, location_ids):
        self.reads.append("skus:" + ",".join(skus))
        return super().skus_and_levels(skus, location_ids)


@pytest.fixture
def world() -> World:
    world = World(catalog={item.sku: item for item in CATALOG}, locations=list(LOCATIONS))
    world.set_stock("MUG-CLASSIC", "riyadh-dc", 40)
    world.set_stock("DATES-1KG", "dammam-3pl", 10)
    world.stock[("MUG-CLASSIC", "jeddah-store")] = StockLevel(sku="MUG-CLASSIC", location_id="jeddah-store",
                                                              on_hand=5, reserved=2, available=3, in_transit=6)
    return world


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


def test_an_uncached_call_reads_twice_and_answers_each_sku_in_the_order_asked(world, clock):
    inventory = CountingInventory(world)
    answer = Availability(inventory, clock)(["MUG-CLASSIC", "NOPE", "DATES-1KG"], TO_RIYADH)
    assert inventory.reads == ["locations", "skus:MUG-CLASSIC,NOPE,DATES-1KG"]
    assert [(a.sku, a.known, a.available, a.in_transit) for a in answer.skus] == [
        ("MUG-CLASSIC", True, 43, 6), ("NOPE", False, 0, 0), ("DATES-1KG", True, 10, 0)]
    assert answer.as_of == clock.now() and answer.age_s == 0 and answer.max_age_s == MAX_AGE_S


def test_within_the_maximum_age_nothing_is_read_and_the_answer_says_how_old_it_is(world, clock):
    inventory = CountingInventory(world)
    availability = Availability(inventory, clock)
    first = availability(["MUG-CLASSIC"], TO_RIYADH)
    world.set_stock("MUG-CLASSIC", "riyadh-dc", 1)  # sold meanwhile: not seen until the data is too old
    clock.advance(seconds=MAX_AGE_S - 1)
    again = availability(["MUG-CLASSIC"], TO_RIYADH)
    assert inventory.reads == ["locations", "skus:MUG-CLASSIC"]
    assert again.skus == first.skus and again.age_s == MAX_AGE_S - 1 and again.as_of == first.as_of
    assert answer_headers(again) == {"Age": str(MAX_AGE_S - 1), "Cache-Control": "max-age=1"}
    clock.advance(seconds=1)
    fresh = availability(["MUG-CLASSIC"], TO_RIYADH)
    assert inventory.reads[2:] == ["locations", "skus:MUG-CLASSIC"] and fresh.age_s == 0
    assert fresh.skus[0].available == 4


def test_only_the_skus_not_kept_are_read_and_the_oldest_data_dates_the_answer(world, clock):
    inventory = CountingInventory(world)
    availability = Availability(inventory, clock)
    availability(["MUG-CLASSIC"], TO_RIYADH)
    clock.advance(seconds=10)
    answer = availability(["MUG-CLASSIC", "DATES-1KG", "MUG-CLASSIC"], Destination(country="SA"))
    assert inventory.reads == ["locations", "skus:MUG-CLASSIC", "skus:DATES-1KG"]
    assert answer.age_s == 10 and answer.destination == Destination(country="SA")


def test_a_destination_changes_the_options_never_the_reads(world, clock):
    inventory = CountingInventory(world)
    availability = Availability(inventory, clock)
    riyadh = availability(["MUG-CLASSIC"], TO_RIYADH)
    dammam = availability(["MUG-CLASSIC"], Destination(country="SA", city="Dammam"))
    assert len(inventory.reads) == 2
    assert "same_day" in {o.kind for o in riyadh.skus[0].options}
    assert "same_day" not in {o.kind for o in dammam.skus[0].options}


def test_the_use_case_refuses_no_sku_and_too_many(world, clock):
    availability = Availability(CountingInventory(world), clock)
    with pytest.raises(InvalidAvailabilityQuery):
        availability([], TO_RIYADH)
    with pytest.raises(InvalidAvailabilityQuery):
        availability([f"SKU-{n}" for n in range(MAX_SKUS + 1)], TO_RIYADH)


# --- the query -------------------------------------------------------------------------------------------------------
def test_the_query_takes_repeated_and_comma_separated_skus_once_each():
    skus, destination = parse_query({"sku": ["MUG-CLASSIC,DATES-1KG", "MUG-CLASSIC"], "country": ["sa"],
                                     "city": ["  Riyadh  "]})
    assert skus == ["MUG-CLASSIC", "DATES-1KG"] and destination == TO_RIYADH
    assert parse_query({"sku": ["A"], "country": ["AE"]})[1] == Destination(country="AE")


@pytest.mark.parametrize(("params", "field", "says"), [
    (None, "query.sku", "at least one sku"),
    ({"country": ["SA"]}, "query.sku", "at least one sku"),
    ({"sku": [""], "country": ["SA"]}, "query.sku", "is not a sku"),
    ({"sku": [",".join(f"S{n}" for n in range(MAX_SKUS + 1))], "country": ["SA"]}, "query.sku", "at most 20"),
    ({"sku": ["MUG CLASSIC"], "country": ["SA"]}, "query.sku", "is not a sku"),
    ({"sku": ["A"]}, "query.country", "country is required"),
    ({"sku": ["A"], "country": ["Saudi"]}, "query.country", "ISO 3166-1"),
    ({"sku": ["A"], "country": ["FR"]}, "query.country", "does not deliver to FR"),
    ({"sku": ["A"], "country": ["SA", "AE"]}, "query.country", "give country once"),
    ({"sku": ["A"], "country": ["SA"], "city": ["x" * 101]}, "query.city", "at most 100"),
    ({"sku": ["A"], "country": ["SA"], "city": ["Riyadh\x00"]}, "query.city", "printable"),
    ({"skus": ["A"], "country": ["SA"]}, "query.skus", "unknown query parameter 'skus'"),
])
def test_every_bad_query_is_a_400_naming_the_parameter(params, field, says):
    with pytest.raises(InvalidAvailabilityQuery) as refused:
        parse_query(params)
    kind, body = problems.from_domain_error(refused.value)
    assert kind.status == 400 and body["code"] == "invalid_query"
    assert body["errors"] == [{"path": field, "message": refused.value.message}] and says in refused.value.message


def test_a_missing_parameter_the_framework_finds_is_the_same_400():
    kind, body = query_problem([{"loc": ("query", "country"), "msg": "Field required", "type": "missing"}])
    assert kind.status == 400 and body["code"] == "invalid_query"
    assert body["errors"] == [{"path": "query.country", "message": "Field required"}]
