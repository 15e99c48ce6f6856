"""Domain errors. Each says what went wrong in business terms; `dawra.contracts.errors` says what each means to an
API client, and a task that raises one fails with the class name as its Step Functions error name (the ASL's
Retry/Catch match on `OutOfStock`, `TransientError`, ...), so keep the class names stable."""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidOrder(DomainError):
    """The order cannot be placed as asked (unknown sku, unserved country, ...)."""


class OrderNotFound(DomainError):
    pass


class InvalidCustomerDetails(DomainError):
    """What the customer gave cannot be used: an address its country's couriers cannot use (a postal code of the
    wrong shape, a phone of another country), a phone that is no number, SMS without a phone. `field` names it."""


class PaymentDeclined(DomainError):
    pass


class AuthorizationExpired(PaymentDeclined):
    """The provider refused a capture because the card authorisation has lapsed (networks keep one about 7 days).
    The order re-authorises on the credential the provider keeps for it (dawra.ports.PaymentProvider.reauthorize);
    if that is declined too, a person decides (the order is held, operations alerted)."""


class OutOfStock(DomainError):
    pass


class CatalogProblem(DomainError):
    """The catalog describes an item in a way it cannot be sold (no price, a negative one, an unknown tax class)."""

    def __init__(self, sku: str, why: str):
        super().__init__(f"sku {sku} cannot be sold: {why}", field=None)
        self.sku = sku


class IdempotencyKeyReused(DomainError):
    pass


class PaymentKeyReused(IdempotencyKeyReused):
    """A payment provider refused a call: its idempotency key was used before with other parameters (another
    amount, another authorisation). A programming error on our side, never retried: the same key must always carry
    the same request."""


class TransientError(DomainError):
    """Worth retrying: a dependency was briefly unavailable (throttled, 5xx, a transaction conflict)."""


class InvalidTaskInput(DomainError):
    pass


class WebhookRejected(DomainError):
    """A carrier webhook that will never be processable. `reason` is one of REASONS: it is recorded, counted and the
    webhook dropped (never retried into the DLQ, which is for processing failures)."""

    REASONS = ("carrier", "signature", "replay", "shape", "size")

    def __init__(self, message: str, reason: str):
        if reason not in self.REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(message)
        self.reason = reason


class CancellationRequested(DomainError):
    """Somebody asked for the whole order to be cancelled: the workflow stops shipping and compensates. A task raises
    the subclass naming who asked (its class name is the Step Functions error, and the order's cancellation reason)."""


class CancelledByOperator(CancellationRequested):
    """An operator asked for the order to be cancelled: the workflow stops shipping and compensates."""


class CancelledByCustomer(CancellationRequested):
    """The customer cancelled their order before it shipped: the workflow stops shipping and compensates."""


class RejectedInReview(CancellationRequested):
    """An agent rejected an order the risk screening held for review (dawra.domain.holds)."""


class ReviewTimedOut(CancellationRequested):
    """Nobody decided an order held for fraud review within its time: it is cancelled."""


class NotConfirmed(CancellationRequested):
    """A cash-on-delivery order the customer did not confirm in time (or an agent found not confirmed)."""


class CreditNotApproved(CancellationRequested):
    """A business account's order over its credit limit was refused, or not approved in time."""


class NotCollected(CancellationRequested):
    """A store pickup the customer did not collect within the store's days (dawra.domain.pickup): it is cancelled,
    its units released at the store and its authorisation voided."""


# The cancellations a hold ends in, by their Step Functions error name (dawra.domain.holds.HOLD_POLICIES), and the
# one a pickup nobody collected ends in (the order's `cancellation_as` names one of them).
HOLD_STOPS: dict[str, type[CancellationRequested]] = {
    cls.__name__: cls for cls in (RejectedInReview, ReviewTimedOut, NotConfirmed, CreditNotApproved,
                                  CancelledByOperator, NotCollected)}


class PickupNotOffered(DomainError):
    """Checkout: the store asked for offers no pickup (unknown, no pickup desk, or in another country than the
    customer's address), or the order cannot be collected there (paid in cash on delivery)."""


class PickupCodeRefused(DomainError):
    """A pickup code that is not this order's (or the desk is locked after too many wrong ones): nothing is handed
    over. `locked_until`: when the desk may try again (None: it may now)."""

    def __init__(self, message: str, locked_until: str | None = None):
        super().__init__(message)
        self.locked_until = locked_until


class RefusedByRiskScreening(DomainError):
    """Checkout's risk screening refused the order: nothing was authorised or written but the refusal's own record.
    The message says nothing about which rule or threshold (what the storefront and a fraudster would read)."""


class OrderOnHold(DomainError):
    """The order is on hold: nothing ships until a person releases it."""


class Unauthenticated(DomainError):
    """No identity, or one that cannot be trusted (bad signature, expired, another pool). Never echoes the token."""


class TooManyRequests(DomainError):
    """A visitor asked too often (the guest lookup's limits per source and per contact): try again later."""


class Forbidden(DomainError):
    """The operator is who they say, but their role does not allow this."""


class IllegalTransition(DomainError):
    """An event that the order's current status does not allow (see dawra.domain.order.TRANSITIONS)."""

    def __init__(self, order_id: str, status: str, event: str, why: str | None = None):
        detail = f": {why}" if why else ""
        super().__init__(f"order {order_id} is {status}; {event} is not allowed{detail}")
        self.order_id = order_id
        self.status = status
        self.event = event
        self.why = why


class PaymentInvariantBroken(DomainError):
    """Money would break refunded <= captured <= authorised, or go negative."""


class ConcurrentChange(DomainError):
    """A conditional commit was refused: the order, a shipment, stock or a marker changed since it was read.

    `parts` names which kinds of item refused ("order", "shipment", "stock", "reservation", "marker")."""

    def __init__(self, parts: set[str]):
        super().__init__(f"changed concurrently: {', '.join(sorted(parts))}")
        self.parts = parts


class InvalidAvailabilityQuery(DomainError):
    """An availability question that cannot be answered as asked (no sku, too many, an unserved country); `field`
    names the query parameter."""


class PickupLocked(PickupCodeRefused):
    """Too many wrong pickup codes for one shipment: the desk waits before trying again."""
