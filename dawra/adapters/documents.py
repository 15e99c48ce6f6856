"""Rendered documents kept in S3 (dawra.ports.DocumentFiles): a tax invoice's or credit note's PDF, drawn once on its
first request and answered from the bucket after that. Nothing there is the record (the document is an item of the
orders table): a lost object is drawn again."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters import aws
from dawra.adapters.errors import error_code, transient_errors

MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3DocumentFiles:
    def __init__(self, bucket: str, client: Any = None):
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("s3")

    def get(self, key: str) -> bytes | None:
        try:
            with transient_errors("S3 GetObject"):
                response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error_code(error) in MISSING:
                return None
            raise
        body: bytes = response["Body"].read()
        return body

    def put(self, key: str, body: bytes, content_type: str) -> None:
        with transient_errors("S3 PutObject"):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
