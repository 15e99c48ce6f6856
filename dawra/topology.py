"""The one description of Dawra's cloud resources.

Both the embedded cloud (``dawra.local``) and the CDK app (``infra/``) build from this module, so a table, queue,
topic, secret, function, route, event source or environment variable is declared exactly once. It is pure data:
no boto3, no CDK imports.

Names here are the *local* physical names (and the logical ids the CDK app derives construct ids from). Environment
variables do not hold names directly: they hold a :class:`Ref` to a resource attribute, which each side resolves to
its own value (a fixed local name, or a CloudFormation token).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from dawra.adapters.dynamo.stream import stream_filter
from dawra.contracts import env as E
from dawra.domain.notifications import NOTIFIED_KINDS

REPO_ROOT = Path(__file__).resolve().parent.parent

ResourceKind = Literal["table", "queue", "topic", "secret", "state_machine", "parameter"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ref(_Frozen):
    """A reference to an attribute of another resource, resolved per side (local name or CDK token)."""

    kind: ResourceKind
    id: str
    attr: Literal["name", "arn", "url", "stream_arn", "value"] = "name"


class KeySchema(_Frozen):
    partition_key: str
    sort_key: str | None = None


class Index(_Frozen):
    name: str
    partition_key: str
    sort_key: str | None = None
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


class Table(_Frozen):
    id: str
    name: str
    keys: KeySchema
    indexes: tuple[Index, ...] = ()
    stream: Literal["NEW_IMAGE"] | None = None
    ttl_attribute: str | None = None
    purpose: str


class Queue(_Frozen):
    id: str
    name: str
    visibility_timeout_s: int = 30
    retention_s: int = 4 * 24 * 3600
    dead_letter_queue: str | None = None  # id of another Queue
    max_receive_count: int | None = None
    purpose: str


class Topic(_Frozen):
    id: str
    name: str
    purpose: str


class Secret(_Frozen):
    id: str
    name: str
    purpose: str


class Parameter(_Frozen):
    """A deploy-time setting (a CloudFormation parameter on AWS, a fixed value locally)."""

    id: str
    local_value: str
    purpose: str


Permission = Literal[
    "orders:read",
    "orders:write",
    "inventory:read",
    "inventory:write",
    "lifecycle:start",
    "lifecycle:callback",
    "ses:send",
    "sns:sms",
    "ops-alerts:publish",
    "carrier-secret:read",
    "tracking-queue:consume",
]


class Function(_Frozen):
    id: str
    name: str
    code: str  # folder under the repo root, e.g. functions/place_order
    handler: str  # module.function inside that folder
    memory_mb: int
    timeout_s: int
    environment: dict[str, Ref | str]
    permissions: tuple[Permission, ...]
    purpose: str

    @property
    def code_path(self) -> Path:
        return REPO_ROOT / self.code


class StateMachine(_Frozen):
    id: str
    name: str
    definition: str  # path under the repo root
    # ASL ${placeholder} -> function id whose ARN replaces it
    substitutions: dict[str, str]
    purpose: str

    @property
    def definition_path(self) -> Path:
        return REPO_ROOT / self.definition


class Route(_Frozen):
    method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"]
    path: str  # API Gateway resource path, e.g. /orders/{order_id}
    target_kind: Literal["function", "queue"]
    target: str  # id of the Function or Queue
    authorization: Literal["storefront", "none"]
    # Headers the route passes on untouched (queue integrations keep them in the envelope)
    forwarded_headers: tuple[str, ...] = ()
    purpose: str


class QueueEventSource(_Frozen):
    queue: str
    function: str
    batch_size: int
    max_batching_window_s: int = 0
    report_batch_item_failures: bool = True


class StreamEventSource(_Frozen):
    table: str
    function: str
    batch_size: int
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    bisect_on_error: bool = True
    max_retry_attempts: int = 5
    report_batch_item_failures: bool = True
    on_failure_queue: str  # id of the Queue that receives records given up on
    # Lambda event filter patterns (exact-value lists only): records matching none are dropped before invoking.
    filter_patterns: tuple[dict, ...] = ()


class Topology(_Frozen):
    tables: tuple[Table, ...]
    queues: tuple[Queue, ...]
    topics: tuple[Topic, ...]
    secrets: tuple[Secret, ...]
    parameters: tuple[Parameter, ...]
    functions: tuple[Function, ...]
    state_machines: tuple[StateMachine, ...]
    routes: tuple[Route, ...]
    queue_event_sources: tuple[QueueEventSource, ...]
    stream_event_sources: tuple[StreamEventSource, ...]

    def table(self, id: str) -> Table:
        return _by_id(self.tables, id)

    def queue(self, id: str) -> Queue:
        return _by_id(self.queues, id)

    def function(self, id: str) -> Function:
        return _by_id(self.functions, id)

    def state_machine(self, id: str) -> StateMachine:
        return _by_id(self.state_machines, id)


def _by_id(items, id):
    for item in items:
        if item.id == id:
            return item
    raise KeyError(id)


# --- Shared environment -------------------------------------------------------------------------------------------
# Powertools reads these; the same values everywhere so logs and metrics group by function, not by service name.
POWERTOOLS_ENV: dict[str, Ref | str] = {
    "POWERTOOLS_SERVICE_NAME": "dawra",
    "POWERTOOLS_METRICS_NAMESPACE": "Dawra",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
ORDERS_TABLE = {E.ORDERS_TABLE: Ref(kind="table", id="orders")}
INVENTORY_TABLE = {E.INVENTORY_TABLE: Ref(kind="table", id="inventory")}
LIFECYCLE = {E.ORDER_LIFECYCLE_ARN: Ref(kind="state_machine", id="order-lifecycle", attr="arn")}


TOPOLOGY = Topology(
    tables=(
        Table(
            id="orders",
            name="dawra-orders",
            keys=KeySchema(partition_key="pk", sort_key="sk"),
            indexes=(
                # KEYS_ONLY: status changes on the order header then cost no index write
                Index(name="by-customer", partition_key="customer_id", sort_key="placed_at", projection="KEYS_ONLY"),
                # KEYS_ONLY: the order and shipment ids are the item's own keys
                Index(name="by-tracking-number", partition_key="tracking_number", projection="KEYS_ONLY"),
            ),
            stream="NEW_IMAGE",
            purpose="The order aggregate: header, shipments, timeline events, applied carrier reports, message "
                    "send claims, checkout idempotency records.",
        ),
        Table(
            id="inventory",
            name="dawra-inventory",
            keys=KeySchema(partition_key="pk", sort_key="sk"),
            purpose="Catalog items, locations, stock per (sku, location) and reservations per (order, sku, location).",
        ),
    ),
    queues=(
        Queue(
            id="carrier-tracking",
            name="dawra-carrier-tracking",
            visibility_timeout_s=60,  # 6x the consumer's timeout, as AWS recommends for event source mappings
            dead_letter_queue="carrier-tracking-dlq",
            max_receive_count=5,
            purpose="Raw carrier webhooks (storage first), consumed by the tracking consumer.",
        ),
        Queue(
            id="carrier-tracking-dlq",
            name="dawra-carrier-tracking-dlq",
            retention_s=14 * 24 * 3600,
            purpose="Carrier webhooks that failed processing max_receive_count times.",
        ),
        Queue(
            id="notify-failures",
            name="dawra-notify-failures",
            retention_s=14 * 24 * 3600,
            purpose="Orders-stream records the notifier gave up on (on-failure destination).",
        ),
    ),
    topics=(Topic(id="ops-alerts", name="dawra-ops-alerts",
                  purpose="Alarms, and orders handed to a person, for whoever runs Dawra."),),
    secrets=(
        Secret(
            id="carrier-sandbox-webhook",
            name="dawra/carriers/sandbox/webhook-secret",
            purpose="HMAC key the sandbox carrier signs its tracking webhooks with.",
        ),
    ),
    parameters=(
        Parameter(
            id="sender-email",
            local_value="orders@shop.dawra.example",
            purpose="Verified SES identity customer emails are sent from.",
        ),
        Parameter(
            id="delivery-grace-hours",
            local_value="48",
            purpose="Hours after the promised delivery date before an undelivered parcel is handed to a person.",
        ),
        Parameter(
            id="sms-sender-id",
            local_value="DAWRA",
            purpose="Alphanumeric sender id for SMS where the destination country allows it.",
        ),
    ),
    functions=(
        Function(
            id="orders-api",
            name="dawra-orders-api",
            code="functions/place_order",
            handler="app.handler",
            memory_mb=512,
            timeout_s=10,
            environment={
                **POWERTOOLS_ENV,
                **ORDERS_TABLE,
                **INVENTORY_TABLE,
                **LIFECYCLE,
            },
            permissions=("orders:read", "orders:write", "inventory:read", "lifecycle:start"),
            purpose="Storefront API: POST /orders (checkout), GET /orders/{order_id}.",
        ),
        Function(
            id="compensate-order",
            name="dawra-compensate-order",
            code="functions/place_order",
            handler="compensate.handler",
            memory_mb=256,
            timeout_s=10,
            environment={**POWERTOOLS_ENV, **ORDERS_TABLE,
                         E.OPS_ALERTS_TOPIC_ARN: Ref(kind="topic", id="ops-alerts", attr="arn")},
            permissions=("orders:read", "orders:write", "ops-alerts:publish"),
            purpose="Compensation tasks: CancelOrder (void the payment, mark the order cancelled, tell the "
                    "customer) and AskAPerson (hand the order to an operator and alert them).",
        ),
        Function(
            id="allocate-stock",
            name="dawra-allocate-stock",
            code="functions/allocate",
            handler="app.handler",
            memory_mb=256,
            timeout_s=10,
            environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **INVENTORY_TABLE},
            permissions=("orders:read", "orders:write", "inventory:read", "inventory:write"),
            purpose="Tasks ReserveStock and ReleaseStock: atomic, idempotent reservations across locations.",
        ),
        Function(
            id="ship-order",
            name="dawra-ship-order",
            code="functions/ship",
            handler="app.handler",
            memory_mb=256,
            timeout_s=10,
            environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **INVENTORY_TABLE,
                         E.DELIVERY_GRACE_HOURS: Ref(kind="parameter", id="delivery-grace-hours", attr="value")},
            permissions=("orders:read", "orders:write", "inventory:read", "inventory:write", "lifecycle:callback"),
            purpose="Tasks ShipShipment (books the carrier, captures, consumes the reservation), WaitForDelivery "
                    "(stores the task token) and CompleteOrder.",
        ),
        Function(
            id="tracking-consumer",
            name="dawra-tracking-consumer",
            code="functions/ship",
            handler="tracking.handler",
            memory_mb=256,
            timeout_s=10,
            environment={
                **POWERTOOLS_ENV,
                **ORDERS_TABLE,
                E.SANDBOX_CARRIER_SECRET: Ref(kind="secret", id="carrier-sandbox-webhook"),
            },
            permissions=("orders:read", "orders:write", "lifecycle:callback", "carrier-secret:read",
                         "tracking-queue:consume"),
            purpose="Consumes carrier webhooks from SQS: verify, normalise, dedup, update shipments, resume on delivery.",
        ),
        Function(
            id="notify",
            name="dawra-notify",
            code="functions/notify",
            handler="app.handler",
            memory_mb=256,
            timeout_s=30,
            environment={
                **POWERTOOLS_ENV,
                **ORDERS_TABLE,
                E.SENDER_EMAIL: Ref(kind="parameter", id="sender-email", attr="value"),
                E.SMS_SENDER_ID: Ref(kind="parameter", id="sms-sender-id", attr="value"),
            },
            permissions=("orders:read", "orders:write", "ses:send", "sns:sms"),
            purpose="Consumes the Orders stream: timeline events become emails (SES) or SMS (SNS), each sent once.",
        ),
    ),
    state_machines=(
        StateMachine(
            id="order-lifecycle",
            name="dawra-order-lifecycle",
            definition="statemachines/order_lifecycle.asl.json",
            substitutions={
                "AllocateStockFunctionArn": "allocate-stock",
                "ShipOrderFunctionArn": "ship-order",
                "CompensateOrderFunctionArn": "compensate-order",
            },
            purpose="The story of an order, from reservation to delivery, with compensation on failure.",
        ),
    ),
    routes=(
        Route(method="POST", path="/orders", target_kind="function", target="orders-api",
              authorization="storefront", purpose="Checkout: place an order (Idempotency-Key header)."),
        Route(method="GET", path="/orders/{order_id}", target_kind="function", target="orders-api",
              authorization="storefront", purpose="An order's status, lines, totals, shipments and timeline."),
        Route(method="POST", path="/webhooks/carriers/{carrier}", target_kind="queue", target="carrier-tracking",
              authorization="none", forwarded_headers=("X-Carrier-Signature",),
              purpose="Carrier tracking webhooks, stored raw in SQS; signatures are verified by the consumer."),
    ),
    queue_event_sources=(
        QueueEventSource(queue="carrier-tracking", function="tracking-consumer", batch_size=10),
    ),
    stream_event_sources=(
        StreamEventSource(
            table="orders", function="notify", batch_size=25, on_failure_queue="notify-failures",
            # Only new timeline events a customer hears about invoke the notifier (not every write to an order).
            filter_patterns=(stream_filter([kind.value for kind in NOTIFIED_KINDS]),),
        ),
    ),
)
