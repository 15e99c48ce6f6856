"""What an event source mapping would find, read from the embedded cloud's own state without a request (decision 127).

On AWS the mappings are the service's pollers: they long-poll the queue and the stream on their own machines, at no
cost to the account's functions. Here they run in the process that carries the orders, and every receive that finds
nothing, every stream read with no new record and every listing of schedules none of which is due is a request moto
parses, serves and serialises under the same interpreter lock as the orders' own requests: under load they took
most of the process's time (`py-spy --gil` on the benchmark's throughput run: 36% receives, 20% schedule listings,
17% stream reads). So each poller looks at moto's state first (these functions) and makes its requests only when they
would find something: a queue with a message visible now, a stream with a record after the last one read, a group
whose schedules changed or one of whose schedules is due. What the requests then return, and everything done with it,
is unchanged: the same receives, reads, invocations, deletes and failures as before, minus the ones that found
nothing.

Each answer is exact for the moment it is read (moto's own rules: a message visible and not delayed, as its receive
takes them; the shard's records as its GetRecords reads them), and read under the lock the embedded cloud serialises
that service's calls with (dawra/local/cloud.py). None means "not known here": the caller polls as before."""

from __future__ import annotations

from typing import Any

from dawra.local.cloud import ACCOUNT, REGION, _dynamodb_lock, _sqs_lock


def queue_has_visible_messages(queue_name: str) -> bool | None:
    """Whether a receive on the queue now would have a message to take (visible: not in flight, not delayed)."""
    from moto.sqs.models import sqs_backends

    with _sqs_lock:
        queue = sqs_backends[ACCOUNT][REGION].queues.get(queue_name)
        return None if queue is None else bool(queue.messages)


def stream_end(table_name: str) -> tuple[str, str | None] | None:
    """The table's stream shard and the sequence number of its last record (None: no record yet), as GetRecords
    reads them. A mapping that has read up to that record and delivered what it read has nothing to read."""
    from moto.dynamodb.models import dynamodb_backends

    with _dynamodb_lock:
        table = dynamodb_backends[ACCOUNT][REGION].tables.get(table_name)
        shard: Any = getattr(table, "stream_shard", None)
        if shard is None:
            return None
        items = shard.items
        return shard.id, (items[-1].record["dynamodb"]["SequenceNumber"] if items else None)


def schedules_in(group_name: str) -> frozenset[tuple[str, float, str]] | None:
    """The group's schedules as (name, last modification, state): what a listing of them would show changed."""
    from moto.scheduler.models import scheduler_backends

    group = scheduler_backends[ACCOUNT][REGION].schedule_groups.get(group_name)
    if group is None:
        return None
    return frozenset((s.name, float(s.last_modified_date), str(s.state)) for s in list(group.schedules.values()))
