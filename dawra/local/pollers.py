"""Event source mappings with Lambda's semantics, which moto's own mappings do not have.

SQS: batches of up to batch_size, the queue's visibility timeout, ReportBatchItemFailures (only failed messages come
back, after their visibility timeout), redrive to the DLQ after maxReceiveCount (moto applies the redrive policy).

DynamoDB stream: records in order per shard, batches of up to batch_size, ReportBatchItemFailures (resume from the
first failed record), bisect a batch whose invocation fails outright, give up on a record after max_retry_attempts
and send a description of it to the on-failure queue. The mapping's filter criteria are applied inside the embedded
cloud, before a record is serialised (dawra/local/cloud.py, filtered_stream_read): a filtered-out record never
reaches the function and costs next to nothing. The mappings of one table's stream read it together when they stand
at the same place (StreamReader: one GetRecords shared out by each mapping's filter); a failing record is tried again
at once a few times a poll (TRIES_PER_POLL), then on the next poll.

EventBridge Scheduler (which moto stores but never fires): each one-time ``at(...)`` schedule of a topology schedule
group whose time has passed on the real UTC clock sends its Input to its target queue, if its role may (the role's
inline policy allows sqs:SendMessage on that queue), and is then deleted (ActionAfterCompletion DELETE). A schedule
whose role may not send is dropped (deleted, counted in `dropped`), as the scheduler drops an invocation it cannot
make once its retries are spent. Sent but not deleted (a failed delete) means sent again on the next poll: delivery
is at least once, as on AWS.

The mappings invoke the function through the Lambda API, as the real ones do. Their own SQS and stream calls are
made once (no botocore retries) and in fault scope (dawra/local/faults.py); like Lambda's managed pollers they
outlive failures: a failed receive or stream read is tried again on the next poll, a failed delete a few
times, after which the message comes back when its visibility timeout ends (consumers dedup).
`call_failures` counts such failures."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError

from dawra.contracts.later import parse_at
from dawra.local import peek
from dawra.local.cloud import filtered_stream_read
from dawra.local.faults import fault_scope
from dawra.topology import QueueEventSource, ScheduleGroup, StreamEventSource

if TYPE_CHECKING:
    from dawra.local.cloud import EmbeddedCloud


def matches(pattern: dict[str, Any], event: Any) -> bool:
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


CALL_ERRORS = (BotoCoreError, ClientError)
DELETE_ATTEMPTS = 3


def _invoke(lambda_client: Any, function_name: str, event: dict[str, Any]) -> tuple[bool, Any]:
    """(whether the function succeeded, its result: a JSON value, or an error payload when it did not)."""
    response = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    return "FunctionError" not in response, payload


class SqsPoller:
    def __init__(self, cloud: EmbeddedCloud, source: QueueEventSource):
        self.cloud = cloud
        self.source = source
        queue = cloud.topology.queue(source.queue)
        self.queue_url = cloud.resolve_ref("queue", source.queue, "url")
        self.queue_arn = cloud.resolve_ref("queue", source.queue, "arn")
        self.queue_name = cloud.resolve_ref("queue", source.queue, "name")
        # The queue's timeout; a local time_scale shortens it (whole seconds, at least 1) for tests.
        self.visibility_timeout = max(1, round(queue.visibility_timeout_s * cloud.time_scale))
        self.function_name = cloud.topology.function(source.function).name
        self.call_failures = 0

    def poll_once(self) -> int:
        """One receive + invoke; returns how many messages were received."""
        with fault_scope():
            return self._poll()

    def _poll(self) -> int:
        if peek.queue_has_visible_messages(self.queue_name) is False:
            return 0  # a receive would find nothing (decision 127)
        sqs, lam = self.cloud.client("sqs", attempts=1), self.cloud.client("lambda")
        try:
            received = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=min(self.source.batch_size, 10),
                VisibilityTimeout=self.visibility_timeout, AttributeNames=["All"],
                MessageAttributeNames=["All"]).get("Messages", [])
        except CALL_ERRORS:
            self.call_failures += 1  # the next poll tries again; a receive that did happen times out
            return 0
        if not received:
            return 0
        event = {"Records": [self._record(message) for message in received]}
        ok, payload = _invoke(lam, self.function_name, event)
        if not ok:
            return len(received)  # every message comes back after its visibility timeout
        failed = {item["itemIdentifier"] for item in (payload or {}).get("batchItemFailures", [])}
        done = [m for m in received if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._delete(sqs, done[start:start + 10])
        return len(received)

    def _delete(self, sqs: Any, messages: list[dict[str, Any]]) -> None:
        """Delete a batch, retrying what failed server-side; what is left comes back after its timeout."""
        pending = {str(i): m["ReceiptHandle"] for i, m in enumerate(messages)}
        for _ in range(DELETE_ATTEMPTS):
            try:
                result = sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                    {"Id": key, "ReceiptHandle": handle} for key, handle in pending.items()])
            except CALL_ERRORS:
                self.call_failures += 1
                continue
            for entry in result.get("Successful", []):
                pending.pop(entry["Id"], None)
            for entry in result.get("Failed", []):
                if entry.get("SenderFault"):  # e.g. a receipt handle no longer valid: retrying won't help
                    pending.pop(entry["Id"], None)
            if not pending:
                return

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
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


# A stream record that fails is tried again at once, up to this many times in one poll, then on the next: a mapping
# with the default five retries gives up within one poll, and one that retries until the record expires
# (start-lifecycle) leaves the pollers' thread to the others between polls.
TRIES_PER_POLL = 6


class StreamPoller:
    def __init__(self, cloud: EmbeddedCloud, source: StreamEventSource):
        self.cloud = cloud
        self.source = source
        self.stream_arn = cloud.resolve_ref("table", source.table, "stream_arn")
        self.function_name = cloud.topology.function(source.function).name
        self.failure_queue_url = cloud.resolve_ref("queue", source.on_failure_queue, "url")
        self._last_sequence: dict[str, str] = {}  # shard -> last sequence number read
        self._pending: dict[str, list[dict[str, Any]]] = {}  # shard -> records read but not yet delivered
        self._attempts: dict[str, int] = {}  # sequence number -> failed attempts
        self._stalled = False  # the on-failure queue could not be reached: this shard waits for the next poll
        self.call_failures = 0

    def reads_from(self, shard_id: str) -> tuple[str, str | None] | None:
        """Where it reads the shard next (the iterator type, and the sequence number to read after), or None while
        it still has records of the shard to deliver."""
        if self._pending.setdefault(shard_id, []):
            return None
        after = self._last_sequence.get(shard_id)
        return ("AFTER_SEQUENCE_NUMBER", after) if after else (self.source.starting_position, None)

    def received(self, shard_id: str, last_sequence: str | None, records: list[dict[str, Any]]) -> None:
        """A read of the shard: what it let through (as the function receives them), and the last record read."""
        if last_sequence is not None:
            self._last_sequence[shard_id] = last_sequence
        self._pending[shard_id] = records

    def deliver_pending(self, shard_id: str) -> int:
        """Deliver what this mapping read, in order; a batch that moved nothing is tried again at once, up to
        TRIES_PER_POLL times, then on the next poll."""
        delivered, fruitless = 0, 0
        self._stalled = False
        while self._pending[shard_id] and not self._stalled and fruitless < TRIES_PER_POLL:
            batch = self._pending[shard_id][: self.source.batch_size]
            moved = self._deliver(shard_id, batch)
            delivered, fruitless = delivered + moved, 0 if moved else fruitless + 1
        return delivered

    def has_read(self, shard_id: str, last_sequence: str | None) -> bool:
        """It has read the shard up to this record (None: the shard holds none yet)."""
        return last_sequence is None or self._last_sequence.get(shard_id) == last_sequence

    def owes(self) -> bool:
        """Records read and not delivered yet (a batch being retried), or a give-up the failure queue refused."""
        return self._stalled or any(self._pending.values())

    def wants(self, record: dict[str, Any]) -> bool:
        """Its filter criteria let the record through (judged on the record's Lambda envelope)."""
        patterns = self.source.filter_patterns
        return not patterns or any(matches(pattern, record) for pattern in patterns)

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]]) -> int:
        if self._exhausted(self._attempts.get(batch[0]["dynamodb"]["SequenceNumber"], 0)):
            return self._give_up(shard_id, batch[0])  # given up on, but the failure queue was unreachable
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

    def _exhausted(self, attempts: int) -> bool:
        """Its retries spent (never, for a mapping retrying until the record expires: the embedded cloud's stream
        keeps its records while the cloud runs)."""
        limit = self.source.max_retry_attempts
        return limit is not None and attempts > limit

    def _retry_or_give_up(self, shard_id: str, record: dict[str, Any]) -> int:
        sequence = record["dynamodb"]["SequenceNumber"]
        self._attempts[sequence] = self._attempts.get(sequence, 0) + 1
        if not self._exhausted(self._attempts[sequence]):
            return 0
        return self._give_up(shard_id, record)

    def _give_up(self, shard_id: str, record: dict[str, Any]) -> int:
        sequence = record["dynamodb"]["SequenceNumber"]
        try:
            self.cloud.client("sqs", attempts=1).send_message(
                QueueUrl=self.failure_queue_url, MessageBody=json.dumps({
                    "requestContext": {"condition": "RetryAttemptsExhausted",
                                       "functionArn": self.function_name},
                    "DDBStreamBatchInfo": {"shardId": shard_id, "streamArn": self.stream_arn,
                                           "startSequenceNumber": sequence, "endSequenceNumber": sequence,
                                           "batchSize": 1},
                }))
        except CALL_ERRORS:
            self.call_failures += 1
            self._stalled = True  # the record stays first in line; the next poll sends it again
            return 0
        self._pending[shard_id].remove(record)
        del self._attempts[sequence]
        return 1


class StreamReader:
    """The mappings of one table's stream, read together (local only: on AWS each mapping reads the stream on its own,
    and what each one receives is the same). One DescribeStream a round for all of them, and one GetRecords per
    shard for the mappings that stand at the same place in it, its records shared out by each mapping's filter: the
    Orders table has two mappings (the notifier, start-lifecycle), and reading for each apart doubled the pollers'
    stream calls on every round. A mapping still retrying its own records reads nothing until they are done, and a
    read that fails is tried again on the next poll by every mapping that took part in it."""

    def __init__(self, cloud: EmbeddedCloud, mappings: list[StreamPoller]):
        self.cloud, self.mappings = cloud, mappings
        self.stream_arn = mappings[0].stream_arn
        self.table_name = cloud.resolve_ref("table", mappings[0].source.table, "name")
        self.call_failures = 0  # its own stream calls that failed (once each, however many mappings share them)

    def poll_once(self) -> int:
        """Read and deliver, unless every mapping has read the stream's last record and delivered what it read
        (decision 127)."""
        end = peek.stream_end(self.table_name)
        if end is not None and all(not m.owes() and m.has_read(*end) for m in self.mappings):
            return 0
        with fault_scope():
            return self._poll()

    def _poll(self) -> int:
        streams = self.cloud.client("dynamodbstreams", attempts=1)
        try:
            shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        except CALL_ERRORS:
            self.call_failures += 1
            return 0
        delivered = 0
        for shard in shards:
            shard_id = shard["ShardId"]
            waiting: dict[tuple[str, str | None], list[StreamPoller]] = {}  # mappings with nothing pending, by place
            for mapping in self.mappings:
                place = mapping.reads_from(shard_id)
                if place is not None:
                    waiting.setdefault(place, []).append(mapping)
            unread: set[int] = set()
            for place, readers in waiting.items():
                try:
                    self._read(streams, shard_id, place, readers)  # nothing is recorded unless the read succeeds
                except CALL_ERRORS:
                    self.call_failures += 1  # they continue from the same place on the next poll
                    unread |= {id(mapping) for mapping in readers}
            delivered += sum(mapping.deliver_pending(shard_id) for mapping in self.mappings
                             if id(mapping) not in unread)
        return delivered

    def _read(self, streams: Any, shard_id: str, place: tuple[str, str | None], readers: list[StreamPoller]) -> None:
        # A fresh iterator each time, from the last sequence number read: moto replaces a table's shard object
        # when it rolls back a cancelled transaction, and an old iterator would read the old one.
        kind, after = place
        iterator = streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=kind,
            **({"SequenceNumber": after} if after else {}))["ShardIterator"]

        def wanted(record: dict[str, Any]) -> bool:  # by some mapping: its envelope made once, whichever judges it
            envelope = self._envelope(record)
            return any(mapping.wants(envelope) for mapping in readers)

        # Filtered-out records are dropped, as Lambda does: they never reach a function. The embedded cloud applies
        # the filters to each record as moto stores it, before the response is serialised: only the records some
        # mapping lets through are written, parsed and made into events (dawra/local/cloud.py, filtered_stream_read).
        with filtered_stream_read(wanted) as read:
            records = [self._envelope(record) for record in streams.get_records(
                ShardIterator=iterator, Limit=1000).get("Records", [])]
        plain = [self._plain(record) for record in records]
        for mapping in readers:
            mapping.received(shard_id, read.last_sequence,
                             [as_sent for record, as_sent in zip(records, plain, strict=True) if mapping.wants(record)])

    def _envelope(self, record: dict[str, Any]) -> dict[str, Any]:
        """The Lambda event record around boto3's stream record (its images as boto3 gave them: not yet JSON)."""
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.cloud.region,
            "dynamodb": record["dynamodb"],
            "eventSourceARN": self.stream_arn,
        }

    @staticmethod
    def _plain(envelope: dict[str, Any]) -> dict[str, Any]:
        """The record as the function receives it: plain JSON (epoch seconds, no Binary wrappers)."""
        dynamodb = dict(envelope["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        return {**envelope, "dynamodb": _low_level(dynamodb)}


class SchedulePoller:
    """Fires the due one-time schedules of one schedule group (see the module's docstring). A schedule's time is read
    once per version of it (its last modification), so a poll of many pending jobs costs one list call."""

    def __init__(self, cloud: EmbeddedCloud, group: ScheduleGroup):
        self.cloud = cloud
        self.group_name = cloud.resolve_ref("schedule_group", group.id, "name")
        self.call_failures = 0
        self.dropped: list[str] = []  # names of schedules whose role could not send to their target
        # (name, last modification) -> when it fires; None: never (not an at() expression, or fired and kept)
        self._fires_at: dict[tuple[str, str], datetime | None] = {}
        # The group's schedules as of the last poll without a failure, and when the first of them left is due.
        self._listed: frozenset[tuple[str, float, str]] | None = None
        self._next_due: datetime | None = None

    def poll_once(self) -> int:
        """Fire what is due; returns how many schedules were sent (or dropped). Nothing is listed while the group's
        schedules are those of the last complete poll and none of them is due yet (decision 127)."""
        schedules = peek.schedules_in(self.group_name)
        if schedules is not None and schedules == self._listed and (
                self._next_due is None or datetime.now(UTC) < self._next_due):
            return 0
        failures = self.call_failures
        with fault_scope():
            fired = self._poll()
        complete = self.call_failures == failures
        self._listed = schedules if complete else None
        return fired

    def _poll(self) -> int:
        scheduler = self.cloud.client("scheduler", attempts=1)
        try:
            listed = [summary for page in scheduler.get_paginator("list_schedules").paginate(
                GroupName=self.group_name) for summary in page["Schedules"]]
        except CALL_ERRORS:
            self.call_failures += 1  # the next poll lists them again
            return 0
        known, self._fires_at, fired = self._fires_at, {}, 0
        later: list[datetime] = []  # when the enabled schedules not due yet are
        for summary in listed:
            key = (summary["Name"], str(summary.get("LastModificationDate")))
            try:
                self._fires_at[key] = known[key] if key in known else self._when(scheduler, summary["Name"])
                at = self._fires_at[key]
                if summary.get("State") != "DISABLED" and at is not None:
                    if at <= datetime.now(UTC):
                        fired += self._fire(scheduler, key)
                    else:
                        later.append(at)
            except CALL_ERRORS:
                self.call_failures += 1  # this schedule is tried again on the next poll
        self._next_due = min(later, default=None)
        return fired

    def _when(self, scheduler: Any, name: str) -> datetime | None:
        schedule = scheduler.get_schedule(GroupName=self.group_name, Name=name)
        try:
            at = parse_at(schedule["ScheduleExpression"])
        except ValueError:
            return None  # rate and cron schedules are not emulated (Dawra creates none)
        zone = schedule.get("ScheduleExpressionTimezone") or "UTC"
        return at if zone == "UTC" else at.replace(tzinfo=ZoneInfo(zone))

    def _fire(self, scheduler: Any, key: tuple[str, str]) -> int:
        name = key[0]
        schedule = scheduler.get_schedule(GroupName=self.group_name, Name=name)
        target = schedule["Target"]
        if self._may_send(target["RoleArn"], target["Arn"]):
            sqs = self.cloud.client("sqs", attempts=1)
            account, queue_name = target["Arn"].split(":")[4:6]
            url = sqs.get_queue_url(QueueName=queue_name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=target["Input"])
        else:
            self.dropped.append(name)
        if schedule.get("ActionAfterCompletion") == "DELETE":
            scheduler.delete_schedule(GroupName=self.group_name, Name=name)
        self._fires_at[key] = None  # a one-time schedule fires once (without DELETE it stays, completed)
        return 1

    def _may_send(self, role_arn: str, queue_arn: str) -> bool:
        """Whether the role's inline policies allow sqs:SendMessage on the queue (exact ARNs, as the topology's
        grants are): what assuming the role and sending with it would decide on AWS."""
        iam = self.cloud.client("iam", attempts=1)
        role_name = role_arn.rsplit("/", 1)[1]
        try:
            policy_names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        except iam.exceptions.NoSuchEntityException:
            return False
        for policy_name in policy_names:
            document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
            for statement in document["Statement"]:
                actions, resources = statement["Action"], statement["Resource"]
                if statement["Effect"] == "Allow" and "sqs:SendMessage" in (
                        [actions] if isinstance(actions, str) else actions) and queue_arn in (
                        [resources] if isinstance(resources, str) else resources):
                    return True
        return False


def _low_level(dynamodb: dict[str, Any]) -> dict[str, Any]:
    """boto3 hands back Binary wrappers; a Lambda event carries plain JSON."""
    plain: dict[str, Any] = json.loads(json.dumps(dynamodb, default=str))
    return plain


class Pollers:
    """All event source mappings; `drain()` runs them until nothing moves, `run_in_background()` keeps polling."""

    def __init__(self, cloud: EmbeddedCloud):
        self.schedules = [SchedulePoller(cloud, group) for group in cloud.topology.schedule_groups]
        self.sqs = [SqsPoller(cloud, source) for source in cloud.topology.queue_event_sources]
        self.streams = [StreamPoller(cloud, source) for source in cloud.topology.stream_event_sources]
        by_stream: dict[str, list[StreamPoller]] = {}
        for poller in self.streams:
            by_stream.setdefault(poller.stream_arn, []).append(poller)
        self._stream_readers = [StreamReader(cloud, mappings) for mappings in by_stream.values()]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def poll_once(self) -> int:
        with self._lock:  # schedules first: a job they send reaches its function in the same round
            return (sum(p.poll_once() for p in self.schedules) + sum(p.poll_once() for p in self.sqs)
                    + sum(reader.poll_once() for reader in self._stream_readers))

    @property
    def call_failures(self) -> int:
        """The pollers' own scheduler, SQS and stream calls that failed (and were, or will be, tried again)."""
        return (sum(p.call_failures for p in self.schedules) + sum(p.call_failures for p in self.sqs)
                + sum(p.call_failures for p in self.streams) + sum(r.call_failures for r in self._stream_readers))

    def drain(self, max_rounds: int = 100) -> int:
        """Poll until a round moves nothing and no call of the round failed (or max_rounds)."""
        total = 0
        for _ in range(max_rounds):
            failures = self.call_failures
            moved = self.poll_once()
            total += moved
            if not moved and self.call_failures == failures:
                return total
        return total

    def run_in_background(self, interval_s: float = 0.05) -> None:
        def loop() -> None:
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
