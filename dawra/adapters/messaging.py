"""Customer messages: email through SES, SMS through SNS."""

from __future__ import annotations

from dawra.adapters import aws


class Messenger:
    def __init__(self, sender_email: str, sms_sender_id: str | None = None, ses=None, sns=None):
        self.sender_email = sender_email
        self.sms_sender_id = sms_sender_id
        self._ses = ses
        self._sns = sns

    def send_email(self, to: str, subject: str, html: str, text: str) -> str:
        ses = self._ses or aws.client("ses")
        response = ses.send_email(
            Source=self.sender_email,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Html": {"Data": html, "Charset": "UTF-8"}, "Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
        return response["MessageId"]

    def send_sms(self, phone: str, text: str) -> str:
        sns = self._sns or aws.client("sns")
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self.sms_sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self.sms_sender_id}
        response = sns.publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)
        return response["MessageId"]
