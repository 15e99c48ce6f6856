"""Carriers by name: booking parcels, and verifying and reading their tracking webhooks."""

from __future__ import annotations

from dawra.adapters.carriers.sandbox import SandboxCarrier
from dawra.domain.errors import WebhookRejected
from dawra.ports import Carrier

MAX_NAME = 32  # longer than any real carrier's name


class CarrierRegistry:
    def __init__(self, carriers: dict[str, Carrier], default: str):
        if default not in carriers:
            raise ValueError(f"the default carrier {default!r} is not configured")
        self.carriers = carriers
        self.default = default

    def named(self, name: str) -> Carrier:
        carrier = self.carriers.get(name) if len(name) <= MAX_NAME else None
        if carrier is None:
            raise WebhookRejected(f"unknown carrier {name[:MAX_NAME]!r}", "carrier")
        return carrier


def default_registry(default: str = "sandbox") -> CarrierRegistry:
    return CarrierRegistry({"sandbox": SandboxCarrier()}, default)
