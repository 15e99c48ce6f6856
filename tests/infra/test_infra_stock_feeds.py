"""The feeds bucket as deployed: every object created is notified to the topology's queue (on the bucket itself, no
custom resource), S3 may send to that queue for this account only, and the bucket waits for that permission."""

from __future__ import annotations

from dawra.topology import TOPOLOGY
from infra.capabilities.naming import pascal


def _queue(synth, queue_id: str) -> str:
    (lid,) = [lid for lid, q in synth.of_type("AWS::SQS::Queue").items()
              if q["Properties"].get("QueueName") == TOPOLOGY.queue(queue_id).name]
    return lid


def test_each_notifying_bucket_tells_its_queue_of_every_object_created(synth):
    notifying = [b for b in TOPOLOGY.buckets if b.notify_queue]
    assert [b.id for b in notifying] == ["stock-feeds"]
    for spec in notifying:
        assert spec.notify_queue is not None
        (lid,) = [lid for lid in synth.of_type("AWS::S3::Bucket") if lid.startswith(f"Storage{pascal(spec.id)}")]
        bucket = synth.resources[lid]
        queue = _queue(synth, spec.notify_queue)
        assert bucket["Properties"]["NotificationConfiguration"] == {"QueueConfigurations": [
            {"Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": [queue, "Arn"]}}]}
        (policy_lid, policy), = [(plid, p) for plid, p in synth.of_type("AWS::SQS::QueuePolicy").items()
                                 if p["Properties"]["Queues"] == [{"Ref": queue}]]
        s3_statements = [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                         if s.get("Principal") == {"Service": "s3.amazonaws.com"}]
        assert [(s["Effect"], s["Action"], s["Condition"]["StringEquals"]) for s in s3_statements] == [
            ("Allow", "sqs:SendMessage", {"aws:SourceAccount": {"Ref": "AWS::AccountId"}})]
        assert policy_lid in bucket.get("DependsOn", [])
        assert not synth.of_type("Custom::S3BucketNotifications")
