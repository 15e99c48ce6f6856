"""The feeds bucket's objects (S3): a stock feed read as the notification named it (its ETag), never a newer object
put under the same key since (that one has its own notification), and never more than the largest feed read."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters import aws
from dawra.adapters.errors import error_code, transient_errors

GONE = frozenset({"NoSuchKey", "404", "NotFound", "PreconditionFailed", "412"})


class S3FeedFiles:
    def __init__(self, bucket: str, client: Any = None):
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("s3")

    def read(self, key: str, etag: str, max_bytes: int) -> bytes | None:
        """The object's first max_bytes + 1 bytes (more than max_bytes: too big), or None when it is gone or was
        replaced since its notification."""
        try:
            with transient_errors("S3 GetObject (stock feed)"):
                response = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=f'"{etag}"',
                                                  Range=f"bytes=0-{max_bytes}")
                body: bytes = response["Body"].read()
        except ClientError as error:
            if error_code(error) in GONE:
                return None
            raise
        return body
