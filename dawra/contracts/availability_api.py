"""The storefront API's availability (GET /availability): the query it reads, and what it answers.

The query is read here, not by the framework, so that every way of getting it wrong is one 400 problem naming the
parameter (an unknown parameter too: `skus=` instead of `sku=` is said, not ignored)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from dawra.contracts import problems
from dawra.contracts.problems import PROBLEM_JSON, Problem
from dawra.domain.delivery_options import MAX_AGE_S, MAX_SKUS, AvailabilityAnswer, Destination
from dawra.domain.errors import InvalidAvailabilityQuery
from dawra.domain.pricing import DEFAULT_POLICY

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # as an order's line (dawra.domain.pricing.RequestedLine)
COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_CITY = 100
PARAMETERS = ("sku", "country", "city")


def parse_query(params: Mapping[str, Sequence[str]] | None) -> tuple[list[str], Destination]:
    """The skus asked for (each once, in the order first asked; `sku=A&sku=B` or `sku=A,B`) and the destination, or
    InvalidAvailabilityQuery naming the parameter at fault."""
    params = params or {}
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise InvalidAvailabilityQuery(f"unknown query parameter {unknown[0]!r}; the parameters are "
                                       f"{', '.join(PARAMETERS)}", field=f"query.{unknown[0]}")
    skus = list(dict.fromkeys(part.strip() for value in params.get("sku", ()) for part in value.split(",")))
    if not skus:
        raise InvalidAvailabilityQuery("ask for at least one sku (sku=MUG-CLASSIC)", field="query.sku")
    if len(skus) > MAX_SKUS:
        raise InvalidAvailabilityQuery(f"ask for at most {MAX_SKUS} skus at a time, not {len(skus)}",
                                       field="query.sku")
    bad = next((sku for sku in skus if not SKU.match(sku)), None)
    if bad is not None:
        raise InvalidAvailabilityQuery(f"{bad[:70]!r} is not a sku (1-64 letters, digits, '.', '_' or '-')",
                                       field="query.sku")
    country = _one(params, "country", required=True).upper()
    if not COUNTRY.match(country):
        raise InvalidAvailabilityQuery("country is an ISO 3166-1 alpha-2 code (SA, AE)", field="query.country")
    if country not in DEFAULT_POLICY.tax_bps_by_country:
        raise InvalidAvailabilityQuery(f"the shop does not deliver to {country}; it delivers to "
                                       f"{', '.join(sorted(DEFAULT_POLICY.tax_bps_by_country))}",
                                       field="query.country")
    city = " ".join(_one(params, "city").split()) or None
    if city is not None and (len(city) > MAX_CITY or not city.isprintable()):
        raise InvalidAvailabilityQuery(f"city is a name of at most {MAX_CITY} printable characters",
                                       field="query.city")
    return skus, Destination(country=country, city=city)


def _one(params: Mapping[str, Sequence[str]], name: str, *, required: bool = False) -> str:
    values = [value for value in params.get(name, ()) if value.strip()]
    if len(values) > 1:
        raise InvalidAvailabilityQuery(f"give {name} once", field=f"query.{name}")
    if required and not values:
        raise InvalidAvailabilityQuery(f"{name} is required", field=f"query.{name}")
    return values[0].strip() if values else ""


def query_problem(found: Sequence[Mapping[str, Any]]) -> tuple[problems.Kind, dict[str, Any]]:
    """What the framework's own check of the query found (a required parameter missing), as the same 400 problem."""
    kind = problems.HTTP[InvalidAvailabilityQuery]
    return kind, problems.body(kind, "the query is not valid; see errors", [
        problems.FieldProblem(path=problems.path_of(p.get("loc", ())), message=problems.message_of(p))
        for p in found])


def answer_body(answer: AvailabilityAnswer) -> dict[str, Any]:
    return answer.model_dump(mode="json")


def answer_headers(answer: AvailabilityAnswer) -> dict[str, str]:
    """Age: how old the answer's oldest data is (seconds); a cache may keep it for the rest of the maximum age."""
    return {"Age": str(answer.age_s), "Cache-Control": f"max-age={max(0, answer.max_age_s - answer.age_s)}"}


# What GET /availability?sku=MUG-CLASSIC&sku=GIFT-CARD&country=SA&city=Riyadh answers on the demo data
# (dawra/local/seed.py), 6 mugs being on their way to the Jeddah store, on Monday 23 November 2026 at 12:00 in Riyadh
# (a unit test holds it to the domain's answer).
EXAMPLE_ANSWER: dict[str, Any] = {
    "destination": {"country": "SA", "city": "Riyadh"},
    "as_of": "2026-11-23T09:00:00Z", "age_s": 0, "max_age_s": MAX_AGE_S,
    "skus": [
        {"sku": "MUG-CLASSIC", "known": True, "available": 45, "in_transit": 6, "locations": [
            {"location_id": "riyadh-dc", "name": "Riyadh distribution centre", "kind": "warehouse",
             "city": "Riyadh", "available": 40, "in_transit": 0},
            {"location_id": "jeddah-store", "name": "Jeddah store", "kind": "store", "city": "Jeddah",
             "available": 5, "in_transit": 6}],
         "options": [
             {"kind": "standard", "earliest": "2026-11-30", "location_id": "riyadh-dc", "order_by": None,
              "slots": [], "pickup": None},
             {"kind": "express", "earliest": "2026-11-25", "location_id": "riyadh-dc", "order_by": None,
              "slots": [], "pickup": None},
             {"kind": "same_day", "earliest": "2026-11-23", "location_id": "riyadh-dc",
              "order_by": "2026-11-23T10:00:00Z", "slots": [], "pickup": None},
             {"kind": "scheduled", "earliest": "2026-11-26", "location_id": "riyadh-dc", "order_by": None, "slots": [
                 {"date": "2026-11-26", "start": "16:00:00", "end": "21:00:00", "weekend": False},
                 {"date": "2026-11-27", "start": "16:00:00", "end": "22:00:00", "weekend": True},
                 {"date": "2026-11-28", "start": "10:00:00", "end": "14:00:00", "weekend": True}], "pickup": None},
             {"kind": "pickup", "earliest": "2026-11-25", "location_id": "jeddah-store", "order_by": None,
              "slots": [], "pickup": {"name": "Jeddah store", "city": "Jeddah", "hours": {
                  "en": "Sat-Thu 10:00-22:00, Fri 16:00-22:00",
                  "ar": "السبت إلى الخميس 10:00-22:00، الجمعة 16:00-22:00"}}}]},
        {"sku": "GIFT-CARD", "known": False, "available": 0, "in_transit": 0, "locations": [], "options": []},
    ],
}

AVAILABILITY_RESPONSES: dict[int, dict[str, Any]] = {
    200: {"description": (
        "Per SKU, in the order asked: the units each location has now and has in transit to it, and the delivery "
        "options to the destination with their earliest dates (standard and express by carrier; same day, before "
        "order_by, where a location's couriers serve the city; scheduled slots there, weekend ones marked; store "
        "pickup with the store's hours). An unknown SKU is answered known: false. Answers may be up to max_age_s "
        f"({MAX_AGE_S}) seconds old: as_of and the Age header say how old."),
        "headers": {"Age": {"description": "Seconds since the oldest data in the answer was read",
                            "schema": {"type": "integer"}},
                    "Cache-Control": {"description": "max-age: how much longer the answer may be kept",
                                      "schema": {"type": "string"}}},
        "content": {"application/json": {"model": AvailabilityAnswer, "examples": {
            "riyadh": {"summary": "A mug in stock, and a SKU the catalog does not have", "value": EXAMPLE_ANSWER}}}}},
    400: {"description": f"The query cannot be answered as asked: no sku, more than {MAX_SKUS}, a malformed sku, no "
                         "country or one the shop does not deliver to, a city given twice or too long, an unknown "
                         "parameter (errors names it)",
          "content": {PROBLEM_JSON: {"model": Problem}}},
    500: {"description": "Something went wrong on our side", "content": {PROBLEM_JSON: {"model": Problem}}},
    503: {"description": "Temporarily unavailable: retry after Retry-After seconds",
          "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
          "content": {PROBLEM_JSON: {"model": Problem}}},
}
