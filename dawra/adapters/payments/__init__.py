"""Payment providers by name (the name an order records, so a refund goes where the capture went)."""

from __future__ import annotations

from collections.abc import Callable

from dawra.adapters.payments.cod import CashOnDelivery
from dawra.adapters.payments.sandbox import SandboxPaymentProvider
from dawra.domain.errors import InvalidTaskInput
from dawra.ports import PaymentProvider


class PaymentRegistry:
    def __init__(self, providers: dict[str, PaymentProvider]):
        self.providers = providers

    def named(self, name: str) -> PaymentProvider:
        try:
            return self.providers[name]
        except KeyError:
            raise InvalidTaskInput(f"no payment provider named {name!r} is configured") from None


def _as_is(provider: PaymentProvider) -> PaymentProvider:
    return provider


# The local stack wraps providers to keep a ledger of what was asked (as moto keeps SES's sent messages).
wrap_provider: Callable[[PaymentProvider], PaymentProvider] = _as_is


def default_registry() -> PaymentRegistry:
    return PaymentRegistry({"sandbox": wrap_provider(SandboxPaymentProvider()),
                            "cash_on_delivery": wrap_provider(CashOnDelivery())})
