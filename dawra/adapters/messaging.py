"""Customer messages (email through SES, SMS through SNS) and alerts to whoever runs the shop (an SNS topic)."""

from __future__ import annotations

import json
from typing import Any

from dawra.adapters import aws
from dawra.adapters.errors import transient_errors


class AwsMessenger:
    def __init__(self, sender_email: str, sms_sender_id: str | None = None, configuration_set: str | None = None,
                 ses: Any = None, sns: Any = None):
        self.sender_email = sender_email
        self.sms_sender_id = sms_sender_id
        self.configuration_set = configuration_set  # SES's reputation metrics, bounce and complaint handling
        self._ses = ses
        self._sns = sns

    def send_email(self, to: str, subject: str, html: str, text: str) -> str:
        ses = self._ses or aws.client("ses")
        through = {"ConfigurationSetName": self.configuration_set} if self.configuration_set else {}
        with transient_errors("SES SendEmail"):
            response = ses.send_email(
                **through,
                Source=self.sender_email,
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Html": {"Data": html, "Charset": "UTF-8"}, "Text": {"Data": text, "Charset": "UTF-8"}},
                },
            )
        message_id: str = response["MessageId"]
        return message_id

    def send_sms(self, phone: str, text: str) -> str:
        sns = self._sns or aws.client("sns")
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self.sms_sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self.sms_sender_id}
        with transient_errors("SNS Publish (SMS)"):
            response = sns.publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)
        message_id: str = response["MessageId"]
        return message_id


class SnsOpsAlerts:
    def __init__(self, topic_arn: str | None, sns: Any = None):
        self.topic_arn = topic_arn
        self._sns = sns

    def alert(self, order_id: str, reason: str) -> None:
        self._publish(f"Dawra: order {order_id} needs a person",
                      {"order_id": order_id, "reason": reason, "status": "NEEDS_ATTENTION"})

    def catalog_problem(self, sku: str, why: str) -> None:
        self._publish(f"Dawra: sku {sku} cannot be sold", {"sku": sku, "reason": why, "problem": "catalog"})

    def low_stock(self, sku: str, location_id: str, available: int, reorder_point: int) -> None:
        self._publish(f"Dawra: {sku} at {location_id} is below its reorder point",
                      {"sku": sku, "location_id": location_id, "available": str(available),
                       "reorder_point": str(reorder_point), "problem": "low_stock"})

    def _publish(self, subject: str, message: dict[str, str]) -> None:
        if not self.topic_arn:
            raise ValueError("no ops alerts topic is configured")
        sns = self._sns or aws.client("sns")
        with transient_errors("SNS Publish (ops alert)"):
            sns.publish(TopicArn=self.topic_arn, Subject=subject[:100], Message=json.dumps(message))
