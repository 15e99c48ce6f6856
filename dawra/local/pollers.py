"""Event source mappings with Lambda's semantics, which moto's own mappings do not have.

SQS: batches of up to batch_size, the queue's visibility timeout, ReportBatchItemFailures (only failed messages come
back, after their visibility timeout), redrive to the DLQ after maxReceiveCount (moto applies the redrive policy).

DynamoDB stream: records in order per shard, batches of up to batch_size, ReportBatchItemFailures (resume from the
first failed record), bisect a batch whose invocation fails outright, give up on a record after max_retry_attempts
and send a description of it to the on-failure queue.

Both invoke the function through the Lambda API, as the real mappings do."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

from dawra.topology import QueueEventSource, StreamEventSource


def matches(pattern: dict, event: Any) -> bool:
    """Lambda event filtering, exact-value subset: every key of the pattern must be present in the record; a list
    lists the allowed values, a dict descends."""
    if not isinstance(event, dict):
        return False
    for key, expected in pattern.items():
        if key not in event:
            return False
        if isinstance(expected, dict):
            if not matches(expected, event[key]):
                return False
        elif not isinstance(expected, list) or any(isinstance(value, dict) for value in expected):
            raise ValueError(f"unsupported filter rule for {key!r}: only lists of exact values are emulated")
        elif event[key] not in expected:
            return False
    return True


def _invoke(lambda_client, function_name: str, event: dict) -> tuple[bool, dict | None]:
    response = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    return "FunctionError" not in response, payload


class SqsPoller:
    def __init__(self, cloud, source: QueueEventSource):
        self.cloud = cloud
        self.source = source
        queue = cloud.topology.queue(source.queue)
        self.queue_url = cloud.resolve_ref("queue", source.queue, "url")
        self.queue_arn = cloud.resolve_ref("queue", source.queue, "arn")
        self.visibility_timeout = queue.visibility_timeout_s
        self.function_name = cloud.topology.function(source.function).name

    def poll_once(self) -> int:
        """One receive + invoke; returns how many messages were received."""
        sqs, lam = self.cloud.client("sqs"), self.cloud.client("lambda")
        received = sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=min(self.source.batch_size, 10),
            VisibilityTimeout=self.visibility_timeout, AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        event = {"Records": [self._record(message) for message in received]}
        ok, payload = _invoke(lam, self.function_name, event)
        if not ok:
            return len(received)  # every message comes back after its visibility timeout
        failed = {item["itemIdentifier"] for item in (payload or {}).get("batchItemFailures", [])}
        done = [m for m in received if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])])
        return len(received)

    def _record(self, message: dict) -> dict:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.cloud.region,
        }


class StreamPoller:
    def __init__(self, cloud, source: StreamEventSource):
        self.cloud = cloud
        self.source = source
        self.stream_arn = cloud.resolve_ref("table", source.table, "stream_arn")
        self.function_name = cloud.topology.function(source.function).name
        self.failure_queue_url = cloud.resolve_ref("queue", source.on_failure_queue, "url")
        self._last_sequence: dict[str, str] = {}  # shard -> last sequence number read
        self._pending: dict[str, list[dict]] = {}  # shard -> records read but not yet delivered
        self._attempts: dict[str, int] = {}  # sequence number -> failed attempts

    def poll_once(self) -> int:
        streams = self.cloud.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        delivered = 0
        for shard in shards:
            shard_id = shard["ShardId"]
            self._pending.setdefault(shard_id, [])
            if not self._pending[shard_id]:
                # A fresh iterator each time, from the last sequence number read: moto replaces a table's shard
                # object when it rolls back a cancelled transaction, and an old iterator would read the old one.
                after = self._last_sequence.get(shard_id)
                iterator = streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id,
                    **({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after
                       else {"ShardIteratorType": self.source.starting_position}))["ShardIterator"]
                records = streams.get_records(ShardIterator=iterator, Limit=1000).get("Records", [])
                if records:
                    self._last_sequence[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                # Filtered-out records are dropped, as Lambda does: they never reach the function.
                self._pending[shard_id] = [record for record in map(self._record, records) if self._wanted(record)]
            while self._pending[shard_id]:
                batch = self._pending[shard_id][: self.source.batch_size]
                delivered += self._deliver(shard_id, batch)
        return delivered

    def _wanted(self, record: dict) -> bool:
        patterns = self.source.filter_patterns
        return not patterns or any(matches(pattern, record) for pattern in patterns)

    def _deliver(self, shard_id: str, batch: list[dict]) -> int:
        ok, payload = _invoke(self.cloud.client("lambda"), self.function_name, {"Records": batch})
        pending = self._pending[shard_id]
        if ok:
            failures = [item["itemIdentifier"] for item in (payload or {}).get("batchItemFailures", [])]
            if not failures:
                del pending[: len(batch)]
                return len(batch)
            sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
            first = min(sequence.index(f) for f in failures if f in sequence) if any(
                f in sequence for f in failures) else 0
            del pending[:first]  # everything before the first failure is done
            return first + self._retry_or_give_up(shard_id, pending[0])
        if len(batch) > 1 and self.source.bisect_on_error:
            half = len(batch) // 2
            return self._deliver(shard_id, batch[:half])  # the next poll continues with the rest
        return self._retry_or_give_up(shard_id, batch[0])

    def _retry_or_give_up(self, shard_id: str, record: dict) -> int:
        sequence = record["dynamodb"]["SequenceNumber"]
        self._attempts[sequence] = self._attempts.get(sequence, 0) + 1
        if self._attempts[sequence] <= self.source.max_retry_attempts:
            return 0
        self.cloud.client("sqs").send_message(QueueUrl=self.failure_queue_url, MessageBody=json.dumps({
            "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self.function_name},
            "DDBStreamBatchInfo": {"shardId": shard_id, "streamArn": self.stream_arn,
                                   "startSequenceNumber": sequence, "endSequenceNumber": sequence, "batchSize": 1},
        }))
        self._pending[shard_id].remove(record)
        return 1

    def _record(self, record: dict) -> dict:
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.cloud.region,
            "dynamodb": _low_level(dynamodb),
            "eventSourceARN": self.stream_arn,
        }


def _low_level(dynamodb: dict[str, Any]) -> dict[str, Any]:
    """boto3 hands back Binary wrappers; a Lambda event carries plain JSON."""
    return json.loads(json.dumps(dynamodb, default=str))


class Pollers:
    """All event source mappings; `drain()` runs them until nothing moves, `run_in_background()` keeps polling."""

    def __init__(self, cloud):
        self.sqs = [SqsPoller(cloud, source) for source in cloud.topology.queue_event_sources]
        self.streams = [StreamPoller(cloud, source) for source in cloud.topology.stream_event_sources]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def poll_once(self) -> int:
        with self._lock:
            return sum(p.poll_once() for p in self.sqs) + sum(p.poll_once() for p in self.streams)

    def drain(self, max_rounds: int = 100) -> int:
        total = 0
        for _ in range(max_rounds):
            moved = self.poll_once()
            total += moved
            if not moved:
                return total
        return total

    def run_in_background(self, interval_s: float = 0.05) -> None:
        def loop():
            while not self._stop.is_set():
                try:
                    if not self.poll_once():
                        self._stop.wait(interval_s)
                except Exception as error:  # noqa: BLE001 - a poller must outlive one bad poll
                    print(f"poller error: {error!r}", flush=True)
                    self._stop.wait(1)

        self._thread = threading.Thread(target=loop, name="dawra-pollers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
