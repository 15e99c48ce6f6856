"""Returns: the return lifecycle state machine, its task function, and how long its waits last (the merchant's
settings). Whoever starts a return's workflow (the customer's page, after the request is stored) takes
RETURN_LIFECYCLE and START_RETURN_LIFECYCLE; whoever resumes it (the console's agent and warehouse, the tracking
consumer) takes fulfilment.ANSWER_TASK_TOKEN, as for the order's waits."""

from __future__ import annotations

from dawra.contracts import env as E

from .data import INVENTORY_TABLE, ORDERS_TABLE, READ_INVENTORY, READ_ORDERS, WRITE_INVENTORY, WRITE_ORDERS
from .fulfilment import ANSWER_TASK_TOKEN
from .model import Function, Grant, Parameter, Ref, StateMachine, arn
from .operations import OPS_ALERTS, POWERTOOLS_ENV, PUBLISH_OPS_ALERT

RETURN_APPROVAL_HOURS = Parameter(
    id="return-approval-hours",
    local_value="72",
    purpose="Hours a return request that needs approval waits for an agent before it expires (the customer is told).",
)
RETURN_INSPECTION_ALERT_HOURS = Parameter(
    id="return-inspection-alert-hours",
    local_value="48",
    purpose="Hours a received return waits for the warehouse's inspection before operations are alerted (and again "
            "each time as long).",
)
RETURN_PARCEL_WAIT_HOURS = Parameter(
    id="return-parcel-wait-hours",
    local_value="336",
    purpose="Hours the return workflow waits for a parcel the customer brings to a store, or one on its way past "
            "its label's validity, before it looks again.",
)
RETURN_LABEL_VALID_HOURS = Parameter(
    id="return-label-valid-hours",
    local_value="336",
    purpose="Hours a return label is valid at most (the carrier's own validity when shorter); an unused label then "
            "expires and the customer is told.",
)
PARAMETERS = (RETURN_APPROVAL_HOURS, RETURN_INSPECTION_ALERT_HOURS, RETURN_PARCEL_WAIT_HOURS, RETURN_LABEL_VALID_HOURS)

RETURN_LIFECYCLE = {E.RETURN_LIFECYCLE_ARN: Ref(kind="state_machine", id="return-lifecycle", attr="arn")}
START_RETURN_LIFECYCLE = Grant(actions=("states:StartExecution",), resources=(arn("state_machine", "return-lifecycle"),))
RETURN_TIMINGS = {
    E.RETURN_APPROVAL_HOURS: Ref(kind="parameter", id="return-approval-hours", attr="value"),
    E.RETURN_INSPECTION_ALERT_HOURS: Ref(kind="parameter", id="return-inspection-alert-hours", attr="value"),
    E.RETURN_PARCEL_WAIT_HOURS: Ref(kind="parameter", id="return-parcel-wait-hours", attr="value"),
    E.RETURN_LABEL_VALID_HOURS: Ref(kind="parameter", id="return-label-valid-hours", attr="value"),
}

FUNCTIONS = (
    Function(
        id="return-tasks",
        name="dawra-return-tasks",
        code="functions/returns",
        handler="tasks.handler",
        memory_mb=256,
        timeout_s=10,
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **INVENTORY_TABLE, **OPS_ALERTS, **RETURN_TIMINGS},
        # ANSWER_TASK_TOKEN: a wait that finds its news already there ends itself.
        grants=(READ_ORDERS, WRITE_ORDERS, READ_INVENTORY, WRITE_INVENTORY, ANSWER_TASK_TOKEN, PUBLISH_OPS_ALERT),
        purpose="Return workflow tasks: ReturnRequested, the waits (approval, parcel, inspection; token kept on the "
                "return), request and label expiry, the label booking, Refund, Close, alerts to operations.",
    ),
)

STATE_MACHINES = (
    StateMachine(
        id="return-lifecycle",
        name="dawra-return-lifecycle",
        definition="statemachines/return_lifecycle.asl.json",
        substitutions={"ReturnTasksFunctionArn": "return-tasks"},
        # WaitForParcel and WaitForInspection park their tokens on the return itself, without a function (decision 121)
        table_substitutions={"OrdersTableName": "orders"},
        purpose="The story of a return, from the request to the refund: approval, label, parcel, inspection.",
    ),
)
