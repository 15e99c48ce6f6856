"""Delivery promises: business days by country (weekends, holidays), the location's cut-off and handling days, the
carrier's service levels, year boundaries; the calendars as validated data; each shipment's promise at reservation."""

from datetime import UTC, date, datetime, time

import pytest
from pydantic import ValidationError

from dawra.domain.allocation import Location
from dawra.domain.pricing import DEFAULT_POLICY
from dawra.domain.promise import (
    Calendars,
    NoCalendar,
    ServiceLevels,
    default_calendars,
    dispatch_day,
    handling_starts,
    latest_promise,
    promise_for,
)
from dawra.local.seed import LOCATIONS

CAL = default_calendars()
SA, AE = CAL.of("SA"), CAL.of("AE")
RIYADH = next(loc for loc in LOCATIONS if loc.location_id == "riyadh-dc")  # 14:00 cut-off, 1 handling day
DUBAI = Location(location_id="dubai-dc", name="Dubai", kind="warehouse", priority=1, region="AE-DU", country="AE",
                 handling_days=1, cutoff=time(15, 0))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- business days by country -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("country", "weekend"), [
    ("SA", {"friday", "saturday"}), ("AE", {"saturday", "sunday"}), ("KW", {"friday", "saturday"}),
    ("BH", {"friday", "saturday"}), ("QA", {"friday", "saturday"}), ("OM", {"friday", "saturday"}),
])
def test_each_gulf_country_has_its_own_weekend(country, weekend):
    assert {day.value for day in CAL.of(country).weekend} == weekend


def test_a_friday_is_a_business_day_in_the_uae_and_not_in_saudi_arabia():
    friday, sunday = date(2026, 11, 27), date(2026, 11, 29)
    assert not SA.is_business_day(friday) and SA.is_business_day(sunday)
    assert AE.is_business_day(friday) and not AE.is_business_day(sunday)


def test_public_holidays_are_not_business_days():
    assert not SA.is_business_day(date(2026, 9, 23))  # Saudi National Day, a Wednesday
    assert AE.is_business_day(date(2026, 9, 23))
    assert not AE.is_business_day(date(2026, 12, 2))  # UAE National Day, a Wednesday
    assert SA.is_business_day(date(2026, 12, 2))


def test_adding_business_days_skips_weekends_and_holidays():
    assert SA.add(date(2026, 11, 26), 1) == date(2026, 11, 29)  # Thursday + 1: Friday and Saturday off
    assert AE.add(date(2026, 11, 26), 1) == date(2026, 11, 27)  # a Friday works in the UAE
    assert AE.add(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Saturday and Sunday off
    assert AE.add(date(2026, 11, 30), 1) == date(2026, 12, 4)  # 1 Dec Commemoration, 2-3 Dec National Day
    assert SA.add(date(2026, 11, 28), 0) == date(2026, 11, 29)  # 0 from a Saturday: the next business day


# --- cut-off, handling, service levels ----------------------------------------------------------------------------
def test_an_order_before_the_cut_off_starts_that_day_and_one_after_it_the_next_business_day():
    # Riyadh is UTC+3: the 14:00 cut-off is 11:00 UTC.
    assert handling_starts(utc(2026, 11, 23, 10, 59), RIYADH, SA) == date(2026, 11, 23)
    assert handling_starts(utc(2026, 11, 23, 11, 0), RIYADH, SA) == date(2026, 11, 24)  # at the cut-off: too late
    assert handling_starts(utc(2026, 11, 26, 12, 0), RIYADH, SA) == date(2026, 11, 29)  # Thursday late: Sunday


def test_an_order_placed_on_a_day_off_starts_on_the_next_business_day_whatever_the_hour():
    assert handling_starts(utc(2026, 11, 27, 6, 0), RIYADH, SA) == date(2026, 11, 29)  # Friday morning
    assert handling_starts(utc(2026, 9, 23, 6, 0), RIYADH, SA) == date(2026, 9, 24)  # National Day morning


def test_the_cut_off_is_judged_on_the_locations_clock_not_utcs():
    # Monday 22:30 UTC is Tuesday 01:30 in Riyadh: before Tuesday's cut-off.
    assert handling_starts(utc(2026, 11, 23, 22, 30), RIYADH, SA) == date(2026, 11, 24)
    # 11:30 UTC is 14:30 in Riyadh (too late) but 15:30 in Dubai, whose cut-off is 15:00: too late there too.
    assert handling_starts(utc(2026, 11, 23, 10, 30), DUBAI, AE) == date(2026, 11, 23)
    assert handling_starts(utc(2026, 11, 23, 11, 30), DUBAI, AE) == date(2026, 11, 24)


@pytest.mark.parametrize(("handling_days", "dispatched"), [(0, date(2026, 11, 26)), (1, date(2026, 11, 29)),
                                                           (2, date(2026, 11, 30))])
def test_handling_days_are_business_days_at_the_location(handling_days, dispatched):
    location = RIYADH.model_copy(update={"handling_days": handling_days})
    assert dispatch_day(utc(2026, 11, 26, 8, 0), location) == dispatched  # Thursday, before the cut-off


def test_service_levels_count_transit_in_the_destinations_business_days():
    monday = utc(2026, 11, 23, 8, 0)  # Riyadh: handled Monday, handed to the carrier Tuesday the 24th
    assert promise_for(monday, RIYADH, "SA", "express") == date(2026, 11, 25)
    assert promise_for(monday, RIYADH, "SA", "standard") == date(2026, 11, 30)  # Wed, Thu, Sun, Mon
    # Across the border, two more days, counted by the UAE's week (Friday counts, Saturday and Sunday do not):
    assert promise_for(monday, RIYADH, "AE", "express") == date(2026, 11, 27)  # Wed, Thu, Fri
    assert promise_for(monday, RIYADH, "AE", "standard") == date(2026, 12, 7)  # ..., Mon 30; 1-3 Dec off; Fri 4, Mon 7


def test_the_merchant_sets_the_service_levels():
    levels = ServiceLevels(transit_days={"standard": 2, "express": 0, "same_day": 0}, cross_border_days=3)
    monday = utc(2026, 11, 23, 8, 0)
    assert promise_for(monday, RIYADH.model_copy(update={"handling_days": 0}), "SA", "same_day",
                       levels=levels) == date(2026, 11, 23)
    assert promise_for(monday, RIYADH, "SA", "standard", levels=levels) == date(2026, 11, 26)
    assert promise_for(monday, RIYADH, "KW", "standard", levels=levels) == date(2026, 12, 1)
    with pytest.raises(ValueError, match="no service level"):
        promise_for(monday, RIYADH, "SA", "drone", levels=levels)


def test_eid_holidays_push_the_promise_past_them():
    # Wednesday 18 March 2026, before the cut-off: Eid al-Fitr (estimated) closes Saudi Arabia 19-22 March.
    assert dispatch_day(utc(2026, 3, 18, 8, 0), RIYADH) == date(2026, 3, 23)
    assert promise_for(utc(2026, 3, 18, 8, 0), RIYADH, "SA", "standard") == date(2026, 3, 29)


def test_the_year_boundary_in_the_uae_skips_new_years_day_and_the_weekend():
    # Thursday 31 December 2026, 16:00 in Dubai (after the cut-off): 1 January 2027 is a holiday, then the weekend.
    placed = utc(2026, 12, 31, 12, 0)
    assert handling_starts(placed, DUBAI, AE) == date(2027, 1, 4)
    assert promise_for(placed, DUBAI, "AE", "express") == date(2027, 1, 6)  # handled Tue 5, delivered Wed 6


def test_an_order_late_on_new_years_eve_utc_is_already_next_year_in_riyadh():
    # 21:30 UTC on Thursday 31 December 2026 is 00:30 on Friday 1 January 2027 in Riyadh: a weekend day there.
    assert handling_starts(utc(2026, 12, 31, 21, 30), RIYADH, SA) == date(2027, 1, 3)


def test_an_orders_promise_is_its_latest_locations():
    slow = RIYADH.model_copy(update={"location_id": "slow", "handling_days": 3})
    monday = utc(2026, 11, 23, 8, 0)
    assert latest_promise(monday, [RIYADH, slow], "SA", "express") == promise_for(monday, slow, "SA", "express")
    assert promise_for(monday, slow, "SA", "express") > promise_for(monday, RIYADH, "SA", "express")
    with pytest.raises(ValueError, match="at least one location"):
        latest_promise(monday, [], "SA", "express")


# --- the calendars as data ----------------------------------------------------------------------------------------
def test_every_country_served_and_every_seeded_location_has_a_calendar():
    for country in DEFAULT_POLICY.tax_bps_by_country:
        CAL.of(country)
    for location in LOCATIONS:
        CAL.of(location.country)
    with pytest.raises(NoCalendar):
        CAL.of("EG")


def test_saudi_and_emirati_holidays_are_listed_for_every_covered_year_and_lunar_ones_are_marked_estimated():
    assert set(CAL.years) == {2026, 2027}
    for country in ("SA", "AE"):
        holidays = CAL.of(country).holidays
        for year in CAL.years:
            names = {h.name for h in holidays if h.date.year == year}
            assert {"Eid al-Fitr", "Eid al-Adha", "Arafat Day", "National Day"} <= names, (country, year)
        assert all(h.estimated for h in holidays if h.name.startswith(("Eid", "Arafat", "Islamic", "The Prophet")))
        assert not any(h.estimated for h in holidays if h.name in ("National Day", "Founding Day", "New Year's Day"))
    assert CAL.covers(date(2027, 12, 31)) and not CAL.covers(date(2028, 1, 1))


def calendars(**country: object) -> dict:
    base = {"name": "X", "utc_offset": "+03:00", "weekend": ["friday", "saturday"], "holidays": []}
    return {"years": [2026], "countries": {"SA": {**base, **country}}}


@pytest.mark.parametrize(("change", "why"), [
    ({"holidays": [{"date": "2026-09-23", "name": "a"}, {"date": "2026-09-23", "name": "b"}]}, "listed twice"),
    ({"holidays": [{"date": "2028-09-23", "name": "a"}]}, "outside the years"),
    ({"weekend": ["friday", "saturday", "sunday", "monday"]}, "at most 3"),
    ({"weekend": ["fri"]}, "Input should be"),
    ({"utc_offset": "3"}, "should match pattern"),
    ({"colour": "red"}, "Extra inputs"),
])
def test_a_calendar_that_makes_no_sense_is_refused_when_read(change, why):
    with pytest.raises(ValidationError, match=why):
        Calendars.model_validate(calendars(**change))


def test_a_country_code_must_be_iso_alpha_2():
    data = calendars()
    data["countries"] = {"Saudi": data["countries"]["SA"]}
    with pytest.raises(ValidationError, match="alpha-2"):
        Calendars.model_validate(data)


def test_a_moment_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        SA.local(datetime(2026, 11, 23, 9, 0))  # naive: the point of the test
