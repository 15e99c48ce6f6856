"""A customer's SMS reply (two-way SMS -> the sms-replies topic -> this function, dawra/topology/sms_replies.py): "1",
"yes" or "نعم" with the order's code confirms a cash-on-delivery order waiting for it (dawra.app.cod_confirmation).
A reply that confirms nothing is only logged (no phone number or text in the log). A message that is not an inbound
SMS raises: Lambda retries it, then it lands in the dead-letter queue, alarmed (a person reads it)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import SNSEvent

from dawra.bootstrap import build_sms_replies
from dawra.contracts.env import settings
from dawra.contracts.sms import InboundSms
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
replies = build_sms_replies(settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    outcomes = []
    for record in SNSEvent(event).records:
        sms = InboundSms.model_validate_json(record.sns.message)
        outcome = replies.by_sms(sms.phone, sms.text, sms.message_id)
        outcomes.append(outcome.split(" ")[-1] if outcome.startswith("ord_") else outcome)
        logger.info("sms reply", extra={"outcome": outcome})
    return {"outcomes": outcomes}
