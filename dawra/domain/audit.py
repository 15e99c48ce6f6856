"""The audit trail: who did what to which order or stock, when, why, and what it was before and after.

Append-only: each entry is written once, in the same commit as the change it describes, keyed by the request that
made it, so a retried request finds its entry instead of writing a second one (and does not act twice)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    audit_id: str  # derived from the request's idempotency key: one request, one entry
    subject: str  # "order:<order_id>" or "stock:<sku>@<location_id>"
    action: str  # what was done, e.g. "cancel_line", "refund", "adjust_stock"
    actor_id: str
    actor_name: str
    roles: list[str]
    at: str  # UTC ISO-8601
    reason: str | None = None
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    fingerprint: str | None = None  # what the request asked (a reused key with other values is refused)


def order_subject(order_id: str) -> str:
    return f"order:{order_id}"


def stock_subject(sku: str, location_id: str) -> str:
    return f"stock:{sku}@{location_id}"
