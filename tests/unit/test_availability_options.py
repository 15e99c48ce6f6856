"""Availability's delivery options (dawra.domain.delivery_options): standard and express from the promise, same day
before and after the cut-off and outside the zone, scheduled and weekend slots, store pickup with its hours, units in
transit counted apart, unknown SKUs; the OpenAPI example is the domain's own answer."""

from datetime import UTC, date, datetime, time

import pytest
from pydantic import ValidationError

from dawra.contracts.availability_api import EXAMPLE_ANSWER
from dawra.domain.allocation import DeliverySlot, Location, PickupDesk
from dawra.domain.delivery_options import (
    AvailabilityAnswer,
    Destination,
    StockHere,
    availability_of,
    unknown_sku,
)
from dawra.domain.promise import promise_for
from dawra.local.seed import LOCATIONS

BY_ID = {location.location_id: location for location in LOCATIONS}
RIYADH_DC, JEDDAH, DAMMAM = BY_ID["riyadh-dc"], BY_ID["jeddah-store"], BY_ID["dammam-3pl"]
TO_RIYADH = Destination(country="SA", city="Riyadh")
MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 12:00 in Riyadh, a business day


def at(location_id: str, available: int = 10, in_transit: int = 0) -> StockHere:
    return StockHere(location_id=location_id, available=available, in_transit=in_transit)


def options(stock, destination=TO_RIYADH, now=MONDAY_NOON, locations=LOCATIONS):
    found = availability_of("MUG-CLASSIC", stock, locations, destination, now).options
    return {option.kind: option for option in found if option.kind != "pickup"}, [
        option for option in found if option.kind == "pickup"]


# --- standard and express: the delivery promise ----------------------------------------------------------------------
def test_standard_and_express_are_the_earliest_promise_over_the_locations_with_stock():
    by_kind, _ = options([at("riyadh-dc"), at("dammam-3pl")])
    assert by_kind["standard"].earliest == promise_for(MONDAY_NOON, RIYADH_DC, "SA", "standard") == date(2026, 11, 30)
    assert by_kind["express"].earliest == promise_for(MONDAY_NOON, RIYADH_DC, "SA", "express") == date(2026, 11, 25)
    assert by_kind["standard"].location_id == by_kind["express"].location_id == "riyadh-dc"


def test_a_location_without_units_now_promises_nothing():
    by_kind, _ = options([at("riyadh-dc", available=0, in_transit=5), at("dammam-3pl")])
    assert by_kind["standard"].location_id == "dammam-3pl"  # 2 handling days, but the only one with stock
    assert by_kind["standard"].earliest == promise_for(MONDAY_NOON, DAMMAM, "SA", "standard")


# --- same day --------------------------------------------------------------------------------------------------------
def test_same_day_before_the_cut_off_in_a_city_the_location_serves():
    by_kind, _ = options([at("riyadh-dc")])
    same_day = by_kind["same_day"]
    assert same_day.earliest == date(2026, 11, 23) and same_day.location_id == "riyadh-dc"
    assert same_day.order_by == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 13:00 in Riyadh


def test_no_same_day_after_the_cut_off():
    by_kind, _ = options([at("riyadh-dc")], now=datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # 13:00 sharp
    assert "same_day" not in by_kind and "standard" in by_kind


def test_no_same_day_outside_the_zone_or_without_a_city():
    assert "same_day" not in options([at("riyadh-dc")], destination=Destination(country="SA", city="Dammam"))[0]
    assert "same_day" not in options([at("riyadh-dc")], destination=Destination(country="SA"))[0]
    assert "same_day" not in options([at("riyadh-dc")], destination=Destination(country="AE", city="Riyadh"))[0]


def test_same_day_city_matches_whatever_the_case_spacing_or_language():
    for city in ("  riyadh ", "RIYADH", "الرياض"):
        assert "same_day" in options([at("riyadh-dc")], destination=Destination(country="SA", city=city))[0]


def test_no_same_day_on_a_weekend_day_nor_from_a_location_without_stock():
    friday_morning = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert "same_day" not in options([at("riyadh-dc")], now=friday_morning)[0]
    assert "same_day" not in options([at("riyadh-dc", available=0, in_transit=3), at("jeddah-store")])[0]


def test_same_day_from_the_preferred_location_whose_cut_off_has_not_passed():
    late = RIYADH_DC.model_copy(update={"location_id": "riyadh-late", "priority": 5, "same_day_cutoff": time(18, 0)})
    now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 14:00: riyadh-dc's 13:00 has passed, riyadh-late's 18:00 not
    by_kind, _ = options([at("riyadh-dc"), at("riyadh-late")], now=now, locations=[*LOCATIONS, late])
    assert by_kind["same_day"].location_id == "riyadh-late"
    assert by_kind["same_day"].order_by == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


# --- scheduled and weekend slots -------------------------------------------------------------------------------------
def test_scheduled_slots_start_once_the_location_has_handled_the_order():
    scheduled = options([at("riyadh-dc")])[0]["scheduled"]
    # handled on Tuesday (1 handling day): Thursday's evening slot first, then the weekend's
    assert scheduled.earliest == date(2026, 11, 26)
    assert [(s.date, s.start, s.end, s.weekend) for s in scheduled.slots] == [
        (date(2026, 11, 26), time(16, 0), time(21, 0), False),
        (date(2026, 11, 27), time(16, 0), time(22, 0), True),
        (date(2026, 11, 28), time(10, 0), time(14, 0), True)]


def test_a_slot_today_is_offered_only_before_it_starts():
    same_day_handling = RIYADH_DC.model_copy(update={"handling_days": 0, "delivery_slots": (
        DeliverySlot(weekday="monday", start=time(11, 0), end=time(13, 0)),
        DeliverySlot(weekday="monday", start=time(18, 0), end=time(21, 0)))})
    scheduled = options([at("riyadh-dc")], locations=[same_day_handling])[0]["scheduled"]
    assert (scheduled.slots[0].date, scheduled.slots[0].start) == (date(2026, 11, 23), time(18, 0))
    assert [s.date for s in scheduled.slots] == [date(2026, 11, 23)]  # next Monday is a week after the first


def test_no_scheduled_slots_outside_the_zone_or_where_the_location_has_none():
    assert "scheduled" not in options([at("riyadh-dc")], destination=Destination(country="SA", city="Jeddah"))[0]
    assert "scheduled" not in options([at("jeddah-store")], destination=Destination(country="SA", city="Jeddah"))[0]


def test_a_slot_ends_after_it_starts():
    with pytest.raises(ValidationError):
        DeliverySlot(weekday="friday", start=time(16, 0), end=time(16, 0))


# --- store pickup ----------------------------------------------------------------------------------------------------
def test_pickup_at_each_store_with_a_desk_with_its_hours_ready_on_its_dispatch_day():
    _, pickups = options([at("riyadh-dc"), at("jeddah-store")])
    (pickup,) = pickups
    assert pickup.location_id == "jeddah-store" and pickup.pickup is not None
    assert pickup.pickup.hours == JEDDAH.pickup.hours and set(pickup.pickup.hours) == {"en", "ar"}
    assert pickup.pickup.city == "Jeddah"
    assert pickup.earliest == date(2026, 11, 25)  # after its 12:00 cut-off: starts Tuesday, 1 handling day


def test_pickup_stores_in_the_destinations_city_come_first_and_other_countries_are_not_offered():
    desk = PickupDesk(hours={"en": "10-22", "ar": "10-22"})
    riyadh_store = Location(location_id="riyadh-store", name="Riyadh store", kind="store", priority=9, region="SA-01",
                            city="Riyadh", pickup=desk)
    dubai_store = Location(location_id="dubai-store", name="Dubai store", kind="store", priority=1, region="AE-DU",
                          country="AE", city="Dubai", pickup=desk)
    stock = [at("jeddah-store"), at("riyadh-store"), at("dubai-store")]
    _, pickups = options(stock, locations=[*LOCATIONS, riyadh_store, dubai_store])
    assert [p.location_id for p in pickups] == ["riyadh-store", "jeddah-store"]


def test_no_pickup_where_the_store_has_no_units_now():
    assert options([at("riyadh-dc"), at("jeddah-store", available=0, in_transit=4)])[1] == []


# --- units per location, in transit apart; unknown skus --------------------------------------------------------------
def test_units_in_transit_are_counted_apart_and_never_promised():
    answer = availability_of("MUG-CLASSIC", [at("riyadh-dc", 0, 0), at("jeddah-store", 0, 6), at("dammam-3pl", 2, 1)],
                             LOCATIONS, TO_RIYADH, MONDAY_NOON)
    assert [(row.location_id, row.available, row.in_transit) for row in answer.locations] == [
        ("jeddah-store", 0, 6), ("dammam-3pl", 2, 1)]  # riyadh-dc holds none and expects none: not listed
    assert (answer.available, answer.in_transit) == (2, 7)
    assert {option.location_id for option in answer.options} == {"dammam-3pl"}


def test_only_in_transit_means_no_option_at_all():
    answer = availability_of("MUG-CLASSIC", [at("jeddah-store", 0, 6)], LOCATIONS, TO_RIYADH, MONDAY_NOON)
    assert answer.known and answer.available == 0 and answer.in_transit == 6 and answer.options == ()


def test_stock_at_a_location_that_no_longer_exists_is_ignored():
    answer = availability_of("MUG-CLASSIC", [at("closed-store", 9)], LOCATIONS, TO_RIYADH, MONDAY_NOON)
    assert answer.locations == () and answer.available == 0


def test_an_unknown_sku_says_so_and_nothing_else():
    answer = unknown_sku("GIFT-CARD")
    assert not answer.known and answer.locations == () and answer.options == () and answer.available == 0


def test_a_location_of_a_country_without_a_calendar_offers_nothing_dated():
    nowhere = Location(location_id="xx-dc", name="XX", kind="warehouse", priority=1, region="XX", country="XX",
                       city="Riyadh", delivery_cities=("Riyadh",), same_day_cutoff=time(23, 0))
    answer = availability_of("MUG-CLASSIC", [at("xx-dc")], [nowhere], TO_RIYADH, MONDAY_NOON)
    assert answer.available == 10 and answer.options == ()


def test_the_openapi_example_is_what_the_domain_answers_on_the_demo_data():
    mug = availability_of("MUG-CLASSIC", [at("riyadh-dc", 40), at("jeddah-store", 5, 6)], LOCATIONS, TO_RIYADH,
                          MONDAY_NOON)
    answer = AvailabilityAnswer(destination=TO_RIYADH, as_of=MONDAY_NOON, age_s=0, max_age_s=30,
                                skus=(mug, unknown_sku("GIFT-CARD")))
    assert answer.model_dump(mode="json") == EXAMPLE_ANSWER


def test_stored_locations_without_the_new_fields_still_load():
    stored = {"location_id": "old", "name": "Old", "kind": "warehouse", "priority": 1, "region": "SA-01"}
    location = Location.model_validate(stored)
    assert location.city is None and location.delivery_cities == () and location.same_day_cutoff is None
    assert location.delivery_slots == () and location.pickup is None
