"""Composition roots: one function per entry point builds its use cases from settings, once per cold start.

Handlers call these at import; tests build the same use cases from tests/fakes.py instead. Nothing else chooses an
adapter or a provider. Each builder imports only what its entry point uses, so a cold start pays for nothing else
(the ship tasks never load the message templates, the notifier never loads checkout, start-lifecycle never loads the
order: its adapters are imported inside the builders that use them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from dawra.app.common import SystemClock
from dawra.contracts.env import Settings

if TYPE_CHECKING:
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.dynamo.orders import DynamoOrders
    from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
    from dawra.adapters.identity import Tokens
    from dawra.app.accounts import BusinessAccounts
    from dawra.app.availability import Availability
    from dawra.app.backoffice import (
        AuditTrail,
        CheckoutRefusals,
        FindOrders,
        HeldOrders,
        OrderActions,
        PlaceOrderForCustomer,
        ViewOrderFile,
    )
    from dawra.app.backorders import AwaitStock, ServeWaitingOrders, StockDue
    from dawra.app.checkout import Checkout
    from dawra.app.claim_requests import AskForClaim
    from dawra.app.claims import DeliveryLate, SettleClaim
    from dawra.app.cod_confirmation import ConfirmCashOnDelivery
    from dawra.app.compensate import AskAPerson, CancelOrder, ReleaseStock
    from dawra.app.customer import CustomerActions
    from dawra.app.deliver import AwaitDelivery, CompleteOrder
    from dawra.app.feedback import AskForFeedback, GiveFeedback, ScheduleFeedback
    from dawra.app.later_jobs import SendOn
    from dawra.app.lifecycle import StartLifecycle
    from dawra.app.notify import Notify
    from dawra.app.operations import OperationsView
    from dawra.app.order_page import OpenOrderLink, OrderLinks, SendOrderLink
    from dawra.app.partners import ApplyPartnerCallbacks, SendToPartner
    from dawra.app.payment_events import ApplyPaymentEvents
    from dawra.app.payments import RenewAuthorization
    from dawra.app.queries import ViewOrder
    from dawra.app.remittances import Remittances
    from dawra.app.replenishment import Replenishment
    from dawra.app.reserve import ReserveStock
    from dawra.app.return_claims import ClaimableLines, DecideClaim, StartClaim
    from dawra.app.return_requests import AskForReturn, ViewReturn
    from dawra.app.return_workflow import (
        AlertOpsAboutReturn,
        OpenReturnWorkflow,
        ParcelWaits,
        ParkOnReplacement,
        ParkReturn,
        ReturnTimings,
        StartReturn,
    )
    from dawra.app.returns import (
        ChangePickupDay,
        CloseReturn,
        DecideReturn,
        EstimateReturn,
        ExpireReturnRequest,
        InspectReturn,
        ReceiveReturn,
        RefundReturn,
        RequestReturn,
        ReturnableLines,
        ShipReplacement,
    )
    from dawra.app.risk import RefusalsAtTheDoor, RiskScreening
    from dawra.app.ship import (
        AwaitCollection,
        AwaitPacking,
        AwaitRelease,
        HoldExpired,
        PackingIsLate,
        RemindCollection,
        ReserveAndShip,
        ShipShipment,
        ShipTheOnlyParcel,
    )
    from dawra.app.stock import StockActions
    from dawra.app.stock_feeds import BucketFeeds, StockFeedImports
    from dawra.app.store_pickup import StorePickups
    from dawra.app.tracking import ApplyTracking
    from dawra.app.warehouse import Warehouse
    from dawra.domain.allocation import Location
    from dawra.ports import CardFingerprints, Later
    from dawra.web.invoices import InvoicePages

clock = SystemClock()
LOCATIONS_MAX_AGE_S = 60.0  # how stale the storefront's locations may be (a new location counts within a minute)


def _uow(settings: Settings) -> DynamoUnitOfWork:
    from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork

    return DynamoUnitOfWork(settings.orders_table, settings.inventory_table)


def _orders(settings: Settings) -> DynamoOrders:
    from dawra.adapters.dynamo.orders import DynamoOrders

    return DynamoOrders(settings.orders_table)


def later_from(settings: Settings) -> Later:
    """Jobs for later through the deployment's schedule group (a function given topology.schedules.SCHEDULE_LATER_ENV
    and SCHEDULE_LATER); scheduling raises ValueError where those settings are absent."""
    from dawra.adapters.later import EventBridgeLater

    return EventBridgeLater(settings.later_schedule_group, settings.later_role_arn, settings.later_target_arn, clock,
                            ops_target_arn=settings.later_ops_target_arn)


@dataclass(frozen=True)
class StorefrontApi:
    checkout: Checkout
    view_order: ViewOrder


def risk_screening(settings: Settings, card_provider: object = None) -> RiskScreening | None:
    """Checkout's fraud screening (dawra.app.risk), where the deployment gave the key of its digests (a secret, read
    once and cached); None without one (every order accepted). The card provider gives the card fingerprints, if it
    can (dawra.ports.CardFingerprints)."""
    if not settings.risk_key_secret_name:
        return None
    from dawra.adapters.dynamo.risk import DynamoRiskRecords
    from dawra.adapters.secrets import ParameterSecrets
    from dawra.app.risk import RiskScreening
    from dawra.domain.risk import default_rules

    secrets, name = ParameterSecrets(), settings.risk_key_secret_name
    fingerprints = cast("CardFingerprints", card_provider) if hasattr(card_provider, "card_fingerprint") else None
    return RiskScreening(default_rules(), lambda: secrets.get(name).encode(), DynamoRiskRecords(settings.orders_table),
                         clock, fingerprints)


def refusals_at_the_door(settings: Settings) -> RefusalsAtTheDoor | None:
    """The tracking consumer's count of cash-on-delivery parcels back undelivered, per phone (dawra.app.risk)."""
    if not settings.risk_key_secret_name:
        return None
    from dawra.adapters.secrets import ParameterSecrets
    from dawra.app.risk import RefusalsAtTheDoor

    secrets, name = ParameterSecrets(), settings.risk_key_secret_name
    return RefusalsAtTheDoor(lambda: secrets.get(name).encode(), clock)


def build_storefront_api(settings: Settings) -> StorefrontApi:
    from dawra.adapters.dynamo.accounts import DynamoAccounts
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.adapters.payments import default_registry as payments
    from dawra.app.checkout import Checkout
    from dawra.app.queries import ViewOrder
    from dawra.domain.accounts import ON_ACCOUNT
    from dawra.domain.order import CASH_ON_DELIVERY

    orders = _orders(settings)
    # Checkout reads the locations on every order (stock check, promise): kept a minute per container.
    inventory = DynamoInventory(settings.inventory_table or "", locations_max_age_s=LOCATIONS_MAX_AGE_S,
                                orders_table=settings.orders_table)  # the risk counters come in the catalog's read
    registry = payments()
    card = registry.named(settings.payment_provider)
    checkout = Checkout(orders=orders, inventory=inventory, uow=_uow(settings),
                        payments=card,
                        alerts=SnsOpsAlerts(settings.ops_alerts_topic_arn), clock=clock,
                        accounts=DynamoAccounts(settings.orders_table), on_account=registry.named(ON_ACCOUNT),
                        later=later_from(settings), screening=risk_screening(settings, card),
                        cod=registry.named(CASH_ON_DELIVERY))
    return StorefrontApi(checkout=checkout, view_order=ViewOrder(orders))


def build_availability(settings: Settings) -> Availability:
    """The storefront's availability: reads the Inventory table only, and keeps what it read for MAX_AGE_S seconds
    per container (dawra.app.availability); the locations are not kept by the adapter too."""
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.app.availability import Availability

    return Availability(DynamoInventory(settings.inventory_table or ""), clock)


@dataclass(frozen=True)
class StorefrontReturns:
    """The storefront API's returns: asked for through the same request as the order page's (`Returns.start`);
    claims without a return through the page's claim (`Returns.start_claim`)."""

    ask: AskForReturn
    view: ViewReturn
    claim: AskForClaim


def build_storefront_returns(settings: Settings) -> StorefrontReturns:
    """Needs RETURN_LIFECYCLE and START_RETURN_LIFECYCLE, as the order page does."""
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.app.claim_requests import AskForClaim
    from dawra.app.return_requests import AskForReturn, ViewReturn

    orders, returns = _orders(settings), build_returns(settings)
    inventory = DynamoInventory(settings.inventory_table or "", locations_max_age_s=LOCATIONS_MAX_AGE_S)
    return StorefrontReturns(ask=AskForReturn(orders, returns.returnable_lines, returns.start, inventory.locations),
                             view=ViewReturn(orders),
                             claim=AskForClaim(orders, returns.claimable_lines, returns.start_claim))


@dataclass(frozen=True)
class AllocateTasks:
    reserve_stock: ReserveStock
    release_stock: ReleaseStock
    stock_due: StockDue  # backorders and preorders (dawra.app.backorders): WhenIsStockDue and WaitForStock
    await_stock: AwaitStock


def build_start_lifecycle(settings: Settings) -> StartLifecycle:
    """The start-lifecycle function's one job: an order committed gets its lifecycle started (decision 114)."""
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.lifecycle import StartLifecycle

    return StartLifecycle(StepFunctionsWorkflow(settings.order_lifecycle_arn))


def _reserve_stock(settings: Settings, orders: DynamoOrders, inventory: DynamoInventory,
                   uow: DynamoUnitOfWork) -> ReserveStock:
    """The reservation, as allocate-stock, ship-order's ReserveAndShip and the waiting lists' server each use it: the
    low-stock alert to operations, the SKUs' waiting lists on the inventory table."""
    from dawra.adapters.dynamo.waiting import DynamoStockWaiters
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.app.reserve import ReserveStock

    return ReserveStock(orders, inventory, uow, clock, SnsOpsAlerts(settings.ops_alerts_topic_arn),
                        waiters=DynamoStockWaiters(settings.inventory_table or ""))


def build_allocate(settings: Settings) -> AllocateTasks:
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.backorders import AwaitStock, StockDue
    from dawra.app.compensate import ReleaseStock

    orders, inventory, uow = _orders(settings), DynamoInventory(settings.inventory_table or ""), \
        _uow(settings)
    workflow = StepFunctionsWorkflow(None)
    reserve = _reserve_stock(settings, orders, inventory, uow)
    return AllocateTasks(reserve_stock=reserve, release_stock=ReleaseStock(orders, inventory, uow),
                         stock_due=StockDue(orders, uow, inventory, serve_waiting(settings, reserve), clock),
                         await_stock=AwaitStock(orders, uow, workflow))


def serve_waiting(settings: Settings, reserve: ReserveStock | None = None) -> ServeWaitingOrders:
    """What serves a SKU's waiting orders when its stock arrives (backorders, preorders: dawra.app.backorders)."""
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.dynamo.waiting import DynamoStockWaiters
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.backorders import ServeWaitingOrders

    orders, waiters = _orders(settings), DynamoStockWaiters(settings.inventory_table or "")
    reserve = reserve or _reserve_stock(settings, orders, DynamoInventory(settings.inventory_table or ""),
                                        _uow(settings))
    return ServeWaitingOrders(orders, waiters, reserve, StepFunctionsWorkflow(None))


@dataclass(frozen=True)
class ShipTasks:
    reserve_and_ship: ReserveAndShip
    ship_shipment: ShipShipment
    ship_the_only_parcel: ShipTheOnlyParcel
    await_release: AwaitRelease
    hold_expired: HoldExpired
    await_packing: AwaitPacking
    packing_late: PackingIsLate
    await_delivery: AwaitDelivery
    complete_order: CompleteOrder  # executions started before decision 111 only
    delivery_late: DeliveryLate
    settle_claim: SettleClaim
    await_collection: AwaitCollection  # store pickup: WaitForCollection
    collection_reminder: RemindCollection


def build_ship(settings: Settings) -> ShipTasks:
    from dawra.adapters.carriers import default_registry as carriers
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.adapters.payments import default_registry as payments
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.claims import DeliveryLate, SettleClaim
    from dawra.app.deliver import AwaitDelivery, CompleteOrder
    from dawra.app.payments import RenewAuthorization
    from dawra.app.ship import (
        AwaitCollection,
        AwaitPacking,
        AwaitRelease,
        HoldExpired,
        PackingIsLate,
        RemindCollection,
        ReserveAndShip,
        ShipShipment,
        ShipTheOnlyParcel,
    )
    from dawra.domain.shipment import Settlement

    orders, uow = _orders(settings), _uow(settings)
    inventory, workflow = DynamoInventory(settings.inventory_table or ""), StepFunctionsWorkflow(
        settings.order_lifecycle_arn)
    ship = ShipShipment(orders, inventory, uow, carriers(settings.carrier), payments(), clock, settings.delivery_grace,
                        settings.hold_timeouts, renewals=RenewAuthorization(
                            orders, uow, payments(), SnsOpsAlerts(settings.ops_alerts_topic_arn), clock),
                        partners=_send_to_partner(settings))
    only = ShipTheOnlyParcel(ship)
    return ShipTasks(
        reserve_and_ship=ReserveAndShip(_reserve_stock(settings, orders, inventory, uow), only),
        delivery_late=DeliveryLate(orders, uow, clock, settings.delivery_grace, settings.delivery_lost_after),
        settle_claim=SettleClaim(orders, inventory, uow, payments(), clock, Settlement(settings.lost_parcel_policy)),
        ship_shipment=ship,
        ship_the_only_parcel=only,
        await_release=AwaitRelease(orders, uow, workflow),
        await_packing=AwaitPacking(orders, uow, workflow),
        packing_late=PackingIsLate(orders, uow, SnsOpsAlerts(settings.ops_alerts_topic_arn), clock),
        hold_expired=HoldExpired(orders, uow, clock),
        await_delivery=AwaitDelivery(orders, uow, workflow),
        await_collection=AwaitCollection(orders, uow, workflow),
        collection_reminder=RemindCollection(orders, uow, clock),
        complete_order=CompleteOrder(orders, uow, clock))


def _send_to_partner(settings: Settings) -> SendToPartner | None:
    """Partners' shipments go to the partner-outbound queue, signed with each partner's key (decision 97)."""
    if not settings.partner_outbox_queue_url:
        return None
    from dawra.adapters.partners import SqsPartnerOutbox
    from dawra.adapters.secrets import ParameterSecrets
    from dawra.app.partners import SendToPartner

    return SendToPartner(SqsPartnerOutbox(settings.partner_outbox_queue_url), ParameterSecrets(), clock)


def build_partner_callbacks(settings: Settings) -> ApplyPartnerCallbacks:
    from dawra.adapters.secrets import ParameterSecrets
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.partners import ApplyPartnerCallbacks

    return ApplyPartnerCallbacks(_orders(settings), _uow(settings),
                                 StepFunctionsWorkflow(settings.order_lifecycle_arn), ParameterSecrets(), clock)


@dataclass(frozen=True)
class LaterJobs:
    """The later-jobs function's: it sends SMS and may publish to no SNS topic, so none of these alerts operations
    (those jobs are the ops-jobs function's: OpsJobs)."""

    ask_for_feedback: AskForFeedback
    notify: Notify  # sends what the notifier held: an SMS through the quiet hours, parcels shipped together
    send_on: SendOn  # a job of operations that reached this queue (scheduled before ops-jobs existed), sent on


def build_later_jobs(settings: Settings) -> LaterJobs:
    from dawra.app.feedback import AskForFeedback
    from dawra.app.later_jobs import SendOn

    orders, uow = _orders(settings), _uow(settings)
    return LaterJobs(ask_for_feedback=AskForFeedback(orders, uow, clock), notify=build_notify(settings),
                     send_on=SendOn(later_from(settings), clock))


@dataclass(frozen=True)
class OpsJobs:
    """The ops-jobs function's: the jobs for later that may alert operations (decision 93)."""

    remittances: Remittances  # flags a cash-on-delivery parcel not remitted in time
    renew_authorization: RenewAuthorization  # renews a card authorisation before it lapses (or tells a person)


def build_ops_jobs(settings: Settings) -> OpsJobs:
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.adapters.payments import default_registry as payments
    from dawra.app.payments import RenewAuthorization

    orders, uow = _orders(settings), _uow(settings)
    return OpsJobs(remittances=build_remittances(settings),
                   renew_authorization=RenewAuthorization(orders, uow, payments(),
                                                          SnsOpsAlerts(settings.ops_alerts_topic_arn), clock,
                                                          later=later_from(settings)))


def build_payment_events(settings: Settings) -> ApplyPaymentEvents:
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.adapters.payments import sandbox_ledger
    from dawra.adapters.payments.sandbox import SandboxPaymentProvider
    from dawra.adapters.secrets import ParameterSecrets
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.payment_events import ApplyPaymentEvents

    secret_names = {"sandbox": settings.sandbox_payments_secret_name} if settings.sandbox_payments_secret_name \
        else {}
    orders = _orders(settings)
    return ApplyPaymentEvents(orders, _uow(settings), StepFunctionsWorkflow(settings.order_lifecycle_arn),
                              {"sandbox": SandboxPaymentProvider(ledger=sandbox_ledger())}, ParameterSecrets(),
                              secret_names, orders, SnsOpsAlerts(settings.ops_alerts_topic_arn), clock)


@dataclass(frozen=True)
class CompensateTasks:
    cancel_order: CancelOrder
    ask_a_person: AskAPerson


def build_compensate(settings: Settings) -> CompensateTasks:
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.adapters.payments import default_registry as payments
    from dawra.app.compensate import AskAPerson, CancelOrder

    orders, uow = _orders(settings), _uow(settings)
    return CompensateTasks(cancel_order=CancelOrder(orders, uow, payments(), clock),
                           ask_a_person=AskAPerson(orders, uow, SnsOpsAlerts(settings.ops_alerts_topic_arn), clock))


def build_tracking(settings: Settings) -> ApplyTracking:
    from dawra.adapters.carriers import default_registry as carriers
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.adapters.secrets import ParameterSecrets
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.tracking import ApplyTracking, KnownParcels

    secret_names = {"sandbox": settings.sandbox_carrier_secret_name} if settings.sandbox_carrier_secret_name else {}
    orders = _orders(settings)
    return ApplyTracking(orders, _uow(settings), StepFunctionsWorkflow(settings.order_lifecycle_arn),
                         carriers(settings.carrier), ParameterSecrets(), secret_names, orders, clock,
                         DynamoInventory(settings.inventory_table or ""),
                         alerts=SnsOpsAlerts(settings.ops_alerts_topic_arn), later=later_from(settings),
                         remittance_days=settings.cod_remittance_days, refusals=refusals_at_the_door(settings),
                         # Tracking numbers found, kept for the container's life: a parcel's later reports make
                         # no by-tracking-number Query (docs/decisions.md 104).
                         parcels=KnownParcels(orders))


def build_remittances(settings: Settings) -> Remittances:
    """Couriers' cash-on-delivery remittances: the back office's imports and reports, and the ops-jobs check."""
    from dawra.adapters.dynamo.remittances import DynamoRemittanceImports
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.app.remittances import Remittances
    from dawra.domain.pricing import DEFAULT_POLICY

    return Remittances(_orders(settings), _uow(settings),
                       DynamoRemittanceImports(settings.orders_table), SnsOpsAlerts(settings.ops_alerts_topic_arn),
                       clock, currency=DEFAULT_POLICY.currency, remittance_days=settings.cod_remittance_days)


def build_stock_feeds(settings: Settings) -> StockFeedImports:
    """Stock feeds: the back office's uploads and reports, and the feeds bucket's function."""
    from dawra.adapters.dynamo.backoffice import DynamoAuditLog
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.dynamo.stock_feeds import DynamoStockFeeds
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.app.stock_feeds import StockFeedImports

    inventory_table = settings.inventory_table or ""
    return StockFeedImports(DynamoInventory(inventory_table), DynamoStockFeeds(inventory_table), _uow(settings),
                            DynamoAuditLog(settings.orders_table), SnsOpsAlerts(settings.ops_alerts_topic_arn), clock,
                            waiting=serve_waiting(settings))


def build_bucket_feeds(settings: Settings) -> BucketFeeds:
    """The feeds bucket's function: each object created imported as a stock feed."""
    from dawra.adapters.feed_files import S3FeedFiles
    from dawra.app.stock_feeds import BucketFeeds

    return BucketFeeds(build_stock_feeds(settings), S3FeedFiles(settings.feeds_bucket), settings.feeds_bucket)


def build_notify(settings: Settings) -> Notify:
    from dawra.adapters.messaging import AwsMessenger
    from dawra.app.notify import Notify
    from dawra.domain.message_timing import QuietHours
    from dawra.rendering import load_templates

    load_templates()  # every notification renders: at init, not on the first delivery
    orders = _orders(settings)
    return Notify(orders=orders, claims=orders,
                  messenger=AwsMessenger(settings.sender_email or "", settings.sms_sender_id,
                                         settings.ses_configuration_set), clock=clock, links=_order_links(settings),
                  later=later_from(settings), quiet=QuietHours.parse(settings.sms_quiet_hours))


def build_feedback_schedule(settings: Settings) -> ScheduleFeedback:
    """The notifier's other job: an order completed (its `order_completed` record) gets its feedback ask scheduled,
    whichever change completed it (decision 111)."""
    from dawra.app.feedback import ScheduleFeedback

    return ScheduleFeedback(later_from(settings), settings.feedback_after, clock)


def _order_links(settings: Settings) -> OrderLinks:
    """The order page's signed links, the shop's name and its support contact (the notifier's and the page's)."""
    from dawra.adapters.secrets import ParameterSecrets
    from dawra.app.order_page import OrderLinks, Shop

    secrets, name = ParameterSecrets(), settings.order_link_key_secret_name or ""
    return OrderLinks(lambda: secrets.get(name).encode(), settings.customer_site_url,
                      Shop(settings.shop_name, settings.support_contact), clock)


@dataclass(frozen=True)
class CustomerSiteParts:
    """What the customer's order page (dawra/web/customer.py) runs on: opening an order by its link, the guest
    lookup, the links and their key (form tokens are signed with it too), and the customer's own actions."""

    open_link: OpenOrderLink
    send_link: SendOrderLink
    links: OrderLinks
    actions: CustomerActions
    give_feedback: GiveFeedback
    returns: Returns  # the customer's returns (needs RETURN_LIFECYCLE and START_RETURN_LIFECYCLE)
    locations: Callable[[], list[Location]]  # the shop's locations (stores to bring a return to, a label's address)
    invoices: InvoicePages  # the order's tax invoices and credit notes (page and PDF)


def build_customer_site(settings: Settings) -> CustomerSiteParts:
    from dawra.adapters.dynamo.backoffice import DynamoOrderSearch
    from dawra.adapters.dynamo.rate_limits import DynamoRateLimits
    from dawra.app.feedback import GiveFeedback
    from dawra.app.order_page import OpenOrderLink, SendOrderLink
    from dawra.domain.pricing import DEFAULT_POLICY

    orders, links = _orders(settings), _order_links(settings)
    countries = sorted(DEFAULT_POLICY.tax_bps_by_country)
    return CustomerSiteParts(
        open_link=OpenOrderLink(orders, links.key, clock),
        send_link=SendOrderLink(DynamoOrderSearch(settings.orders_table), orders, _uow(settings),
                                DynamoRateLimits(settings.orders_table), links.key, clock, countries),
        links=links, actions=build_customer_actions(settings), give_feedback=GiveFeedback(orders, _uow(settings), clock),
        returns=build_returns(settings), locations=_inventory(settings).locations, invoices=build_invoices(settings))


def build_sms_replies(settings: Settings) -> ConfirmCashOnDelivery:
    """A customer's SMS reply confirming a cash-on-delivery order: found by their phone (the by-lookup index)."""
    from dawra.adapters.dynamo.backoffice import DynamoAuditLog, DynamoOrderSearch
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.cod_confirmation import ConfirmCashOnDelivery

    return ConfirmCashOnDelivery(_orders(settings), _uow(settings),
                                 DynamoAuditLog(settings.orders_table),
                                 StepFunctionsWorkflow(settings.order_lifecycle_arn), clock,
                                 DynamoOrderSearch(settings.orders_table))


def build_invoices(settings: Settings) -> InvoicePages:
    """An order's tax documents for its pages: read from the orders table, their PDFs kept in the documents bucket
    (drawn on every request without one)."""
    from dawra.adapters.documents import S3DocumentFiles
    from dawra.web.invoices import InvoicePages

    files = S3DocumentFiles(settings.documents_bucket) if settings.documents_bucket else None
    return InvoicePages(_orders(settings), files)


@dataclass(frozen=True)
class ReturnLabelParts:
    """What the return label's own function (functions/return_label) runs the order page's `return_label` on: opening
    the order by its link, the link's key and the shop's name, and the locations a parcel goes back to. Reads only."""

    open_link: OpenOrderLink
    links: OrderLinks
    locations: Callable[[], list[Location]]
    invoices: InvoicePages  # and the order's invoices' PDFs (decision 87)


def build_return_label(settings: Settings) -> ReturnLabelParts:
    from dawra.app.order_page import OpenOrderLink

    links = _order_links(settings)
    return ReturnLabelParts(open_link=OpenOrderLink(_orders(settings), links.key, clock),
                            links=links, locations=_inventory(settings).locations, invoices=build_invoices(settings))


def _inventory(settings: Settings) -> DynamoInventory:
    from dawra.adapters.dynamo.inventory import DynamoInventory

    return DynamoInventory(settings.inventory_table or "")


def build_customer_actions(settings: Settings) -> CustomerActions:
    """What the customer does to their own order (cancel, cancel unshipped parcels, change the address or how they
    hear from us); the customer's page calls it once it has checked the order's link."""
    from dawra.adapters.dynamo.backoffice import DynamoAuditLog
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.payments import default_registry as payments
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.compensate import CancelOrder, ReleaseStock
    from dawra.app.customer import CustomerActions

    orders, uow, registry = _orders(settings), _uow(settings), payments()
    inventory = DynamoInventory(settings.inventory_table or "")
    return CustomerActions(orders, inventory, uow, DynamoAuditLog(settings.orders_table),
                           StepFunctionsWorkflow(settings.order_lifecycle_arn), registry, clock,
                           release_stock=ReleaseStock(orders, inventory, uow),
                           cancel_order=CancelOrder(orders, uow, registry, clock))


@dataclass(frozen=True)
class BackOffice:
    """What operators do, for the admin API and the console alike (each use case authorises the actor itself)."""

    find_orders: FindOrders
    view_order: ViewOrderFile
    actions: OrderActions
    audit_trail: AuditTrail
    place_order: PlaceOrderForCustomer
    stock: StockActions
    operations: OperationsView
    held_orders: HeldOrders  # the orders waiting on one kind of hold (the fraud review queue), oldest first
    refusals: CheckoutRefusals  # the checkouts the fraud screening refused, per day
    remittances: Remittances | None = None  # couriers' cash-on-delivery remittance files and what is still owed
    accounts: BusinessAccounts | None = None  # business accounts: terms, payments received, overdue invoices
    stock_feeds: StockFeedImports | None = None  # an ERP's or 3PL's stock feeds: uploads and reports
    replenishment: Replenishment | None = None  # what to reorder, transfers suggested between locations
    warehouse: Warehouse | None = None  # pick and pack: picking lists, work tasks done, picked, packed
    store_pickups: StorePickups | None = None  # store pickup: a store's desk, marked ready, handed over by code


def build_backoffice(settings: Settings) -> BackOffice:
    from dawra.adapters.dynamo.accounts import DynamoAccounts
    from dawra.adapters.dynamo.backoffice import DynamoAuditLog, DynamoOrderSearch
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.dynamo.operations import DynamoOrderHistory
    from dawra.adapters.dynamo.risk import DynamoRiskRecords
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.adapters.payments import default_registry as payments
    from dawra.adapters.payments import sandbox_ledger
    from dawra.adapters.payments.sandbox import SandboxPaymentProvider
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.accounts import BusinessAccounts
    from dawra.app.backoffice import (
        AuditTrail,
        CheckoutRefusals,
        FindOrders,
        HeldOrders,
        OrderActions,
        PlaceOrderForCustomer,
        ViewOrderFile,
    )
    from dawra.app.checkout import Checkout
    from dawra.app.compensate import CancelOrder, ReleaseStock
    from dawra.app.operations import OperationsView
    from dawra.app.replenishment import Replenishment
    from dawra.app.stock import StockActions
    from dawra.app.store_pickup import StorePickups
    from dawra.app.warehouse import Warehouse

    orders, uow = _orders(settings), _uow(settings)
    inventory = DynamoInventory(settings.inventory_table or "", orders_table=settings.orders_table)
    audit = DynamoAuditLog(settings.orders_table)
    registry, workflow = payments(), StepFunctionsWorkflow(settings.order_lifecycle_arn)
    alerts = SnsOpsAlerts(settings.ops_alerts_topic_arn)
    actions = OrderActions(orders, inventory, uow, audit, workflow, registry, clock,
                           release_stock=ReleaseStock(orders, inventory, uow),
                           cancel_order=CancelOrder(orders, uow, registry, clock))
    checkout = Checkout(orders=orders, inventory=inventory, uow=uow,
                        payments=registry.named(settings.payment_provider), alerts=alerts, clock=clock,
                        screening=risk_screening(settings))  # an agent's orders: screened too (no card)
    stock = StockActions(inventory, inventory, uow, audit, clock, alerts, waiting=serve_waiting(settings))
    return BackOffice(find_orders=FindOrders(DynamoOrderSearch(settings.orders_table)),
                      view_order=ViewOrderFile(orders, audit), actions=actions, audit_trail=AuditTrail(audit),
                      place_order=PlaceOrderForCustomer(checkout, registry, SandboxPaymentProvider(ledger=sandbox_ledger()),
                                                        clock),
                      stock=stock,
                      operations=OperationsView(DynamoOrderHistory(settings.orders_table), settings.delivery_grace,
                                                accounts=DynamoAccounts(settings.orders_table)),
                      held_orders=HeldOrders(DynamoOrderHistory(settings.orders_table)),
                      refusals=CheckoutRefusals(DynamoRiskRecords(settings.orders_table)),
                      remittances=build_remittances(settings),
                      accounts=BusinessAccounts(DynamoAccounts(settings.orders_table), orders, uow, audit, clock),
                      stock_feeds=build_stock_feeds(settings),
                      replenishment=Replenishment(inventory, inventory, stock),
                      warehouse=Warehouse(orders, DynamoOrderSearch(settings.orders_table), uow, audit, workflow,
                                          clock),
                      store_pickups=StorePickups(orders, DynamoOrderSearch(settings.orders_table), inventory, uow,
                                                 audit, workflow, registry, clock,
                                                 durations=settings.pickup_durations))


@dataclass(frozen=True)
class ConsoleParts:
    """What the operators' console (dawra/web) runs on: the back office, the pool's token checks and sign-in, and
    the key its CSRF tokens are signed with (a secret, cached)."""

    office: BackOffice
    verify: Callable[[str], dict[str, Any]]
    sign_in: Callable[[str, str], Tokens]
    session_key: Callable[[], bytes]
    returns: Returns  # an agent's decision, a store drop-off received, the warehouse's inspection
    invoices: InvoicePages  # the orders' tax invoices and credit notes, as their pages


def build_console(settings: Settings) -> ConsoleParts:
    from dawra.adapters.identity import CognitoSignIn, TokenVerifier
    from dawra.adapters.secrets import ParameterSecrets

    secrets, secret_name = ParameterSecrets(), settings.console_session_key_secret_name or ""
    return ConsoleParts(office=build_backoffice(settings), verify=TokenVerifier.from_settings(settings).verify_claims,
                        sign_in=CognitoSignIn(settings.user_pool_client_id or "").sign_in,
                        session_key=lambda: secrets.get(secret_name).encode(), returns=build_returns(settings),
                        invoices=build_invoices(settings))


def _return_timings(settings: Settings) -> ReturnTimings:
    from datetime import timedelta

    from dawra.app.return_workflow import ReturnTimings

    return ReturnTimings(approval=timedelta(hours=settings.return_approval_hours),
                         inspection_alert=timedelta(hours=settings.return_inspection_alert_hours),
                         parcel_wait=timedelta(hours=settings.return_parcel_wait_hours),
                         label_valid=timedelta(hours=settings.return_label_valid_hours))


@dataclass(frozen=True)
class ReturnTasks:
    """The return workflow's tasks (functions/returns/tasks.py)."""

    open: OpenReturnWorkflow
    park: ParkReturn
    expire_request: ExpireReturnRequest
    parcel: ParcelWaits
    refund: RefundReturn
    close: CloseReturn
    alert_ops: AlertOpsAboutReturn
    ship_replacement: ShipReplacement  # an exchange's replacement leaves
    wait_for_replacement: ParkOnReplacement


def build_return_tasks(settings: Settings) -> ReturnTasks:
    from dawra.adapters.carriers import default_registry as carriers
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.adapters.payments import default_registry as payments
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.return_workflow import (
        AlertOpsAboutReturn,
        MerchantLabelValidity,
        OpenReturnWorkflow,
        ParcelWaits,
        ParkOnReplacement,
        ParkReturn,
    )
    from dawra.app.returns import (
        CloseReturn,
        ExpireReturnLabel,
        ExpireReturnRequest,
        IssueReturnLabel,
        RefundReturn,
        ShipReplacement,
        WaitForReturn,
    )

    orders, uow, timings = _orders(settings), _uow(settings), _return_timings(settings)
    inventory = DynamoInventory(settings.inventory_table or "")
    registry = carriers(settings.carrier)
    carrier = MerchantLabelValidity(registry.named(registry.default), timings.label_valid, clock)
    workflow = StepFunctionsWorkflow(None)
    return ReturnTasks(
        open=OpenReturnWorkflow(orders, timings),
        park=ParkReturn(orders, WaitForReturn(orders, uow, clock), workflow),
        expire_request=ExpireReturnRequest(orders, uow, clock),
        parcel=ParcelWaits(IssueReturnLabel(orders, inventory, uow, carrier, clock, timings.label_valid),
                           ExpireReturnLabel(orders, uow, clock, inventory=inventory), orders, timings, clock),
        refund=RefundReturn(orders, uow, payments(), clock),
        close=CloseReturn(orders, uow, clock),
        alert_ops=AlertOpsAboutReturn(SnsOpsAlerts(settings.ops_alerts_topic_arn)),
        ship_replacement=ShipReplacement(orders, inventory, uow, registry, clock),
        wait_for_replacement=ParkOnReplacement(orders, uow, workflow))


@dataclass(frozen=True)
class Returns:
    """What the customer's page and the console do with returns. `start` is the customer's request: the return
    stored, then its workflow started (use it rather than `request`, which starts nothing)."""

    returnable_lines: ReturnableLines
    estimate: EstimateReturn
    request: RequestReturn
    start: StartReturn
    decide: DecideReturn
    receive: ReceiveReturn
    inspect: InspectReturn
    # Claims without a return (dawra.app.return_claims): what may be claimed, the customer's claim (stored, then its
    # workflow started), an agent's refund, reship or decline.
    claimable_lines: ClaimableLines
    start_claim: StartClaim
    decide_claim: DecideClaim
    # A courier pickup moved by the customer (it did not come, or another day suits): the days offered, the change.
    change_pickup: ChangePickupDay | None = None


def build_returns(settings: Settings) -> Returns:
    """Needs RETURN_LIFECYCLE and START_RETURN_LIFECYCLE (dawra/topology/returns.py) where returns are requested,
    and ANSWER_TASK_TOKEN where they are decided, received or inspected."""
    from dawra.adapters.carriers import default_registry as carriers
    from dawra.adapters.dynamo.backoffice import DynamoAuditLog
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.stepfunctions import StepFunctionsWorkflow
    from dawra.app.return_claims import ClaimableLines, DecideClaim, RequestClaim, StartClaim
    from dawra.app.return_workflow import StartReturn
    from dawra.app.returns import (
        ChangePickupDay,
        DecideReturn,
        EstimateReturn,
        InspectReturn,
        ReceiveReturn,
        RequestReturn,
        ReturnableLines,
    )

    orders, uow, audit = _orders(settings), _uow(settings), DynamoAuditLog(settings.orders_table)
    inventory = DynamoInventory(settings.inventory_table or "")
    workflow = StepFunctionsWorkflow(settings.order_lifecycle_arn, return_lifecycle_arn=settings.return_lifecycle_arn)
    registry = carriers(settings.carrier)
    pickups = registry.named(registry.default)  # the carrier that books the return: the days its courier comes
    request = RequestReturn(orders, uow, clock, inventory=inventory, pickups=pickups)
    return Returns(returnable_lines=ReturnableLines(orders, clock, inventory=inventory, pickups=pickups),
                   estimate=EstimateReturn(orders, clock, inventory=inventory, pickups=pickups),
                   request=request, start=StartReturn(request, workflow),
                   decide=DecideReturn(orders, uow, audit, workflow, clock, inventory=inventory),
                   receive=ReceiveReturn(orders, uow, workflow, clock),
                   inspect=InspectReturn(orders, inventory, uow, audit, workflow, clock),
                   claimable_lines=ClaimableLines(orders, clock),
                   start_claim=StartClaim(RequestClaim(orders, uow, clock, inventory, audit=audit), workflow),
                   decide_claim=DecideClaim(orders, uow, audit, workflow, clock, inventory),
                   change_pickup=ChangePickupDay(orders, uow, audit, pickups, clock))
