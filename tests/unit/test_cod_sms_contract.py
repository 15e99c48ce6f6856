"""The inbound SMS contract reads exactly what AWS End User Messaging SMS publishes to a two-way number's SNS topic
(its user guide's example payload), and refuses what is not one."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from dawra.contracts.sms import InboundSms

DOCUMENTED = {"originationNumber": "+14255550182", "destinationNumber": "+12125550101", "messageKeyword": "JOIN",
              "messageBody": "EXAMPLE", "inboundMessageId": "cae173d2-66b9-564c-8309-21f858e9fb84",
              "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


def test_the_documented_payload_is_read_field_by_field():
    sms = InboundSms.model_validate_json(json.dumps(DOCUMENTED))
    assert (sms.phone, sms.to, sms.keyword, sms.text, sms.message_id, sms.replying_to) == (
        "+14255550182", "+12125550101", "JOIN", "EXAMPLE", "cae173d2-66b9-564c-8309-21f858e9fb84",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def test_arabic_text_and_no_keyword_nor_earlier_message_and_a_field_aws_adds_later():
    payload = {k: v for k, v in DOCUMENTED.items() if k not in ("messageKeyword", "previousPublishedMessageId")}
    sms = InboundSms.model_validate_json(json.dumps({**payload, "messageBody": "نعم ١٢٣٤", "carrier": "x"},
                                                    ensure_ascii=False))
    assert (sms.text, sms.keyword, sms.replying_to) == ("نعم ١٢٣٤", None, None)


@pytest.mark.parametrize("change", [
    {"originationNumber": "4255550182"},  # not E.164
    {"originationNumber": None},
    {"inboundMessageId": ""},
    {"messageBody": "x" * 1601},
])
def test_what_is_not_an_inbound_sms_is_refused(change):
    with pytest.raises(ValidationError):
        InboundSms.model_validate({**DOCUMENTED, **change})


def test_an_sns_notification_of_another_kind_is_refused():
    with pytest.raises(ValidationError, match="originationNumber"):
        InboundSms.model_validate_json(json.dumps({"notificationType": "Delivery"}))
