"""Fulfilment: the order lifecycle state machine and its task functions (reserve, ship, compensate)."""

from __future__ import annotations

from dawra.adapters.dynamo.stream import stream_filter
from dawra.contracts import env as E
from dawra.domain.timeline import TimelineKind

from .data import INVENTORY_TABLE, ORDERS_TABLE, READ_INVENTORY, READ_ORDERS, WRITE_INVENTORY, WRITE_ORDERS
from .model import AnyResource, Function, Grant, Queue, Ref, StateMachine, StreamEventSource, arn
from .operations import OPS_ALERTS, POWERTOOLS_ENV, PUBLISH_OPS_ALERT
from .partner_outbox import PARTNER_OUTBOX, READ_PARTNER_SECRETS, SEND_TO_PARTNERS
from .risk import HOLD_TIMEOUTS

LIFECYCLE = {E.ORDER_LIFECYCLE_ARN: Ref(kind="state_machine", id="order-lifecycle", attr="arn")}

START_LIFECYCLE = Grant(actions=("states:StartExecution",), resources=(arn("state_machine", "order-lifecycle"),))
# Returning a delivery wait's task token (ship-order's DeliveryReportedFirst when the report came first; the tracking
# consumer).
ANSWER_TASK_TOKEN = Grant(
    actions=("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"),
    resources=(AnyResource(
        reason="states:SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat are authorised by the opaque task token "
        "and have no resource type in the Step Functions service authorization reference, so AWS requires "
        "Resource * (scoping them to the state machine ARN is an implicit deny at run time)."),),
)

QUEUES = (
    Queue(
        id="lifecycle-start-failures",
        name="dawra-lifecycle-start-failures",
        retention_s=14 * 24 * 3600,
        purpose="Orders whose lifecycle could not be started after every retry (the start-lifecycle stream "
                "source's on-failure destination): each message names the stream records to start again.",
    ),
)

FUNCTIONS = (
    Function(
        id="start-lifecycle",
        name="dawra-start-lifecycle",
        code="functions/start_lifecycle",
        handler="app.handler",
        memory_mb=256,
        timeout_s=30,  # a batch of 25 starts, each retried by boto3 while Step Functions throttles
        # ORDERS_TABLE is only a setting every function reads (its name): it reads nothing but the stream record
        # (the event source mapping's own grant) and starts the execution.
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **LIFECYCLE},
        grants=(START_LIFECYCLE,),
        purpose="Starts each order's lifecycle from its commit: the Orders stream's order_confirmed record, "
                "written with the order at checkout; the execution is named after the order, so a record "
                "delivered twice starts it once (decision 114).",
    ),
    Function(
        id="compensate-order",
        name="dawra-compensate-order",
        code="functions/place_order",
        handler="compensate.handler",
        memory_mb=256,
        timeout_s=10,
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE,
                     **OPS_ALERTS},
        grants=(READ_ORDERS, WRITE_ORDERS, PUBLISH_OPS_ALERT),
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
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **INVENTORY_TABLE, **OPS_ALERTS},
        # ReserveStock alerts operations when a hold takes a stock item below its reorder point (PUBLISH_OPS_ALERT).
        # WaitForStock and WhenIsStockDue resume the orders waiting for stock they serve (ANSWER_TASK_TOKEN).
        grants=(READ_ORDERS, WRITE_ORDERS, READ_INVENTORY, WRITE_INVENTORY, PUBLISH_OPS_ALERT, ANSWER_TASK_TOKEN),
        purpose="Tasks ReserveStock (ReserveAndShip's fallback) and ReleaseStock: atomic, idempotent "
                "reservations across locations; "
                "WhenIsStockDue and WaitForStock for backordered and preordered orders; the "
                "low-stock alert when a reservation crosses a reorder point.",
    ),
    Function(
        id="ship-order",
        name="dawra-ship-order",
        code="functions/ship",
        handler="app.handler",
        memory_mb=256,
        timeout_s=20,  # ReserveAndShip reserves (retried on a race for the same stock) and ships in one call
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **INVENTORY_TABLE, **OPS_ALERTS,
                     E.DELIVERY_GRACE_HOURS: Ref(kind="parameter", id="delivery-grace-hours", attr="value"),
                     E.DELIVERY_LOST_AFTER_HOURS: Ref(kind="parameter", id="delivery-lost-after-hours", attr="value"),
                     E.LOST_PARCEL_POLICY: Ref(kind="parameter", id="lost-parcel-policy", attr="value"),
                     **HOLD_TIMEOUTS, **PARTNER_OUTBOX},
        # ReserveAndShip reserves as allocate-stock's ReserveStock does (decision 124: the low-stock alert, the SKUs'
        # waiting lists on the inventory table). ShipShipment alerts operations when a lapsed card authorisation
        # cannot be renewed (PUBLISH_OPS_ALERT), and
        # PackingLate when a shipment is not packed by its location's SLA. ShipShipment hands a partner's shipment
        # to it, signed with the partner's key (SEND_TO_PARTNERS, READ_PARTNER_SECRETS: decision 97).
        grants=(READ_ORDERS, WRITE_ORDERS, READ_INVENTORY, WRITE_INVENTORY, ANSWER_TASK_TOKEN, PUBLISH_OPS_ALERT,
                SEND_TO_PARTNERS, *READ_PARTNER_SECRETS),
        purpose="Tasks ReserveAndShip (reserve, ship a lone parcel), ShipTheOnlyParcel, ShipShipment, "
                "WaitForPacking, PackingLate (pick and pack), DeliveryReportedFirst, DeliveryLate, "
                "WaitForLateDelivery, SettleClaim (late, lost and returned parcels).",
    ),
)

STATE_MACHINES = (
    StateMachine(
        id="order-lifecycle",
        name="dawra-order-lifecycle",
        definition="statemachines/order_lifecycle.asl.json",
        substitutions={
            "AllocateStockFunctionArn": "allocate-stock",
            "ShipOrderFunctionArn": "ship-order",
            "CompensateOrderFunctionArn": "compensate-order",
        },
        # WaitForDelivery parks its token on the shipment itself, without a function (decision 117)
        table_substitutions={"OrdersTableName": "orders"},
        purpose="The story of an order, from reservation to delivery, with compensation on failure.",
    ),
)

STREAM_EVENT_SOURCES = (
    # Every order placed writes one order_confirmed event with it (storefront's checkout, an agent's order for a
    # customer): the lifecycle starts from that commit, off checkout's request path, and an order committed is an
    # order whose lifecycle runs whatever became of checkout's answer. A start fails only when Step Functions does
    # (throttled, down, a permission lost in a deploy): the record is retried, and the orders behind it in its shard
    # wait, until the start holds or the record leaves the stream after 24 hours (no retry limit: Lambda's
    # default), so an outage delays lifecycles and loses none that it outlasts by less than a day. The IteratorAge
    # alarm says so within minutes; records given up on go to the failure queue (alarmed too) and their orders stay
    # in CONFIRMED, shown as stuck on the operations view. Ten batches of a shard at once: starts need no order
    # between orders, and a flash sale's orders are not started one after another.
    StreamEventSource(
        table="orders", function="start-lifecycle", batch_size=25, max_retry_attempts=None,
        parallelization_factor=10, iterator_age_alarm_s=60, on_failure_queue="lifecycle-start-failures",
        filter_patterns=(stream_filter([TimelineKind.ORDER_CONFIRMED.value]),),
    ),
)
