"""A route's reason in the reader's words: what the stock reservation's timeline event recorded (dawra.domain.routing:
its reason codes, the locations' names, the destination region) as one sentence in English or Arabic, e.g. "All items
from Jeddah store: nearest to Makkah region with full stock"."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dawra.domain.routing import RoutingPolicy, routing_policy


def routing_reason(detail: Mapping[str, str], t: Callable[..., str], language: str,
                   policy: RoutingPolicy | None = None) -> str | None:
    """The sentence, or None when the event says nothing about its route (reserved before routing was recorded)."""
    codes = [code for code in detail.get("routing", "").split("+") if code]
    if not codes:
        return None
    names = [name for name in detail.get("routed_from", "").split("|") if name]
    where = names[0] if len(names) <= 1 else t("routing.list_separator").join(names[:-1]) + t("routing.and") + names[-1]
    region_code = detail.get("routing_region", "")
    region = (policy or routing_policy()).regions.get(region_code)
    region_name = (region.names.get(language) or region.names["en"]) if region else region_code
    head = t("routing.single" if len(names) == 1 else "routing.split", where=where)
    why = t("routing.why_separator").join(t(f"routing.{code}", region=region_name) for code in codes)
    return t("routing.reason", head=head, why=why)
