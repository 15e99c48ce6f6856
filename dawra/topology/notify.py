"""Notify: the notifier, the Orders-stream source that feeds it, its failure queue, and what it sends with (the
sender's parameters, the SES configuration set)."""

from __future__ import annotations

from dawra.adapters.dynamo.stream import awaiting_confirmation_filter, stream_filter
from dawra.contracts import env as E
from dawra.domain.notifications import STREAM_KINDS
from dawra.domain.timeline import TimelineKind

from .customer import LINKS, READ_LINK_KEY
from .data import ORDERS_TABLE, READ_ORDERS, WRITE_ORDERS
from .model import (
    AnyResource,
    ConfigurationSet,
    EveryArn,
    Function,
    Grant,
    NamedArn,
    Parameter,
    Queue,
    Ref,
    StreamEventSource,
)
from .operations import POWERTOOLS_ENV
from .schedules import SCHEDULE_LATER, SCHEDULE_LATER_ENV

QUEUES = (
    Queue(
        id="notify-failures",
        name="dawra-notify-failures",
        retention_s=14 * 24 * 3600,
        purpose="Orders-stream records the notifier gave up on (on-failure destination).",
    ),
)

SENDER_EMAIL = Parameter(
    id="sender-email",
    local_value="orders@shop.dawra.example",
    purpose="Verified SES identity customer emails are sent from.",
)
SMS_SENDER_ID = Parameter(
    id="sms-sender-id",
    local_value="DAWRA",
    purpose="Alphanumeric sender id for SMS where the destination country allows it.",
)

CONFIGURATION_SETS = (
    ConfigurationSet(id="notifications", name="dawra-notifications",
                     purpose="Customer emails: reputation metrics, bounces and complaints suppressed."),
)

_SENDER = Ref(kind="parameter", id="sender-email", attr="value")
SEND_EMAIL = Grant(
    actions=("ses:SendEmail", "ses:SendRawEmail"),
    resources=(
        # The address itself, or its domain when the domain is the verified identity.
        NamedArn(service="ses", resource_type="identity", name=_SENDER),
        NamedArn(service="ses", resource_type="identity", name=_SENDER, domain_of=True),
        NamedArn(service="ses", resource_type="configuration-set", name=Ref(kind="configuration_set",
                                                                               id="notifications")),
    ),
)
SEND_SMS = Grant(
    actions=("sns:Publish",),
    resources=(AnyResource(
        reason="sns:Publish to a phone number (SMS) targets no topic ARN, so AWS requires Resource *; the role has "
        "no other SNS permission."),),
)
# ...and SEND_SMS's "*" would reach every topic and push endpoint too: refuse them all, so the role sends SMS only.
SMS_ONLY = Grant(effect="Deny", actions=("sns:Publish",), resources=(EveryArn(service="sns"),))

# What sending a customer message takes (the notifier's, and the later-jobs function's for the messages it sends
# later): the sender's identities, the SES configuration set, the quiet hours, and the page link's key and letterhead.
SENDING_ENV: dict[str, Ref | str] = {
    E.SENDER_EMAIL: _SENDER,
    E.SMS_SENDER_ID: Ref(kind="parameter", id="sms-sender-id", attr="value"),
    E.SES_CONFIGURATION_SET: Ref(kind="configuration_set", id="notifications", attr="name"),
    E.SMS_QUIET_HOURS: Ref(kind="parameter", id="sms-quiet-hours", attr="value"),
    **LINKS,  # every message carries the order page's signed link, the shop's name and its support contact
}
SENDING = (SEND_EMAIL, SEND_SMS, SMS_ONLY, READ_LINK_KEY)

FUNCTIONS = (
    Function(
        id="notify",
        name="dawra-notify",
        code="functions/notify",
        handler="app.handler",
        memory_mb=256,
        timeout_s=30,
        # It holds what waits (an SMS in the quiet hours, parcels shipped together, the feedback ask after an order
        # completes) as jobs for later.
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **SENDING_ENV, **SCHEDULE_LATER_ENV,
                     E.FEEDBACK_AFTER_HOURS: Ref(kind="parameter", id="feedback-after-hours", attr="value")},
        # Reading the Orders stream and sending to notify-failures are the stream event source mapping's own grant.
        grants=(READ_ORDERS, WRITE_ORDERS, *SENDING, *SCHEDULE_LATER),
        purpose="Consumes the Orders stream: timeline events become emails (SES) or SMS (SNS), each sent once; an "
                "order completed gets its feedback ask scheduled.",
    ),
)

STREAM_EVENT_SOURCES = (
    StreamEventSource(
        table="orders", function="notify", batch_size=25, on_failure_queue="notify-failures",
        # Only new timeline events a customer hears about invoke the notifier (not every write to an order), and
        # an order's completion (its feedback ask is scheduled; written with the change that finished its last parcel).
        # A backordered or preordered order's confirmation too (told at once, with its date; no other order's).
        filter_patterns=(stream_filter([kind.value for kind in (*STREAM_KINDS, TimelineKind.ORDER_COMPLETED)]),
                         awaiting_confirmation_filter()),
    ),
)
