"""Payment providers by name (the name an order records, so a refund goes where the capture went)."""

from __future__ import annotations

from collections.abc import Callable

from dawra.adapters.payments.cod import CashOnDelivery
from dawra.adapters.payments.on_account import OnAccount
from dawra.adapters.payments.sandbox import SandboxLedger, SandboxPaymentProvider
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


# The sandbox's ledger of the idempotency keys it answered, one per process: every function container of the embedded
# cloud (one process) sees the same one, as they would one provider. The embedded cloud starts each cloud with a new
# one (dawra.local.cloud), so two clouds in one test run never share keys.
_shared = {"sandbox": SandboxLedger()}


def sandbox_ledger() -> SandboxLedger:
    return _shared["sandbox"]


def new_sandbox_ledger() -> None:
    """A fresh ledger for the function containers that start from now on (the embedded cloud, when it starts)."""
    _shared["sandbox"] = SandboxLedger()


def default_registry() -> PaymentRegistry:
    return PaymentRegistry({"sandbox": wrap_provider(SandboxPaymentProvider(ledger=sandbox_ledger())),
                            "cash_on_delivery": wrap_provider(CashOnDelivery()),
                            "on_account": wrap_provider(OnAccount())})
