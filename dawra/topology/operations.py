"""Operations: the ops-alerts topic, the delivery grace a merchant sets, and the Powertools settings every function
shares."""

from __future__ import annotations

from dawra.contracts import env as E

from .model import Grant, Parameter, Ref, Topic, arn

# Powertools reads these; the same values everywhere so logs and metrics group by function, not by service name.
POWERTOOLS_ENV: dict[str, Ref | str] = {
    "POWERTOOLS_SERVICE_NAME": "dawra",
    "POWERTOOLS_METRICS_NAMESPACE": "Dawra",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    # Responses carry customer data (orders, contacts): never into X-Ray traces. Errors are still traced.
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
}

TOPICS = (Topic(id="ops-alerts", name="dawra-ops-alerts",
                purpose="Alarms, and orders handed to a person, for whoever runs Dawra."),)

DELIVERY_GRACE_HOURS = Parameter(
    id="delivery-grace-hours",
    local_value="48",
    purpose="Hours after the promised delivery date before the customer of an undelivered parcel is told it is "
            "late (an apology and a new estimate).",
)

DELIVERY_LOST_AFTER_HOURS = Parameter(
    id="delivery-lost-after-hours",
    local_value="240",
    purpose="Hours after the promised delivery date before an undelivered parcel is declared lost in transit and "
            "settled by the lost-parcel policy (read as the grace when shorter).",
)

LOST_PARCEL_POLICY = Parameter(
    id="lost-parcel-policy",
    local_value="agent",
    purpose="What happens to a parcel lost in transit or returned to sender: reship (send its lines again, "
            "nothing charged), refund (its share of the payment), or agent (a person decides).",
)

FEEDBACK_AFTER_HOURS = Parameter(
    id="feedback-after-hours",
    local_value="72",
    purpose="Hours after an order is complete (its last parcel delivered) before the customer is asked for feedback.",
)

SMS_QUIET_HOURS = Parameter(
    id="sms-quiet-hours",
    local_value="",
    purpose="Quiet hours for SMS on the customer's clock, HH:MM-HH:MM (e.g. 21:00-08:00); empty: none. A message "
            "that is not urgent is held until they end; urgent ones (a confirmation, a link asked for, a courier at "
            "the door) go at any hour.",
)

COD_REMITTANCE_DAYS = Parameter(
    id="cod-remittance-days",
    local_value="7",
    purpose="Days after delivery a cash-on-delivery parcel's cash may go unremitted by the courier before it is "
            "flagged to operations and listed as owed in the remittance reconciliation.",
)
COD_REMITTANCE = {E.COD_REMITTANCE_DAYS: Ref(kind="parameter", id="cod-remittance-days", attr="value")}

OPS_ALERTS = {E.OPS_ALERTS_TOPIC_ARN: Ref(kind="topic", id="ops-alerts", attr="arn")}
# AskAPerson's alert with the order id; checkout's alert naming an unsellable SKU.
PUBLISH_OPS_ALERT = Grant(actions=("sns:Publish",), resources=(arn("topic", "ops-alerts"),))
