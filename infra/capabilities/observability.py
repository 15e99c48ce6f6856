"""CloudWatch: alarms (to the ops-alerts topic) and the Dawra dashboard.

Alarms: a message in any dead-letter store (carrier-tracking DLQ, later-jobs and ops-jobs DLQs, notify and
lifecycle-start failures, SMS replies not acted on), failed / timed-out / aborted executions, API 5xx, errors and
throttles of every function, each stream mapping's iterator age, and a job for later the scheduler dropped. The
dashboard shows the business metrics the functions emit with Powertools (namespace POWERTOOLS_METRICS_NAMESPACE,
dimension service=POWERTOOLS_SERVICE_NAME) beside the technical ones.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from constructs import Construct

from dawra.contracts import metrics as metrics_names
from dawra.topology import POWERTOOLS_ENV, Topology

from .messaging import ALARM_TOPIC
from .naming import pascal

DASHBOARD_NAME = "dawra"
# Business metrics the functions emit (Powertools Metrics, unit Count). Keep in step with the handlers.
BUSINESS_METRICS = metrics_names.ALL
FIVE_MINUTES = Duration.minutes(5)


class Observability(Construct):
    def __init__(self, scope: Construct, id: str, *, topology: Topology, messaging, functions, lifecycle, api,
                 later=None):
        super().__init__(scope, id)
        alarm_action = actions.SnsAction(messaging.topics[ALARM_TOPIC])
        self.alarms: list[cloudwatch.Alarm] = []

        def alarm(cid: str, metric: cloudwatch.IMetric, description: str, threshold: float = 1) -> None:
            created = cloudwatch.Alarm(
                self,
                cid,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            created.add_alarm_action(alarm_action)
            self.alarms.append(created)

        # Dead-letter stores: anything in them is a message (or stream record) Dawra gave up on.
        dead_letter_ids = {q.dead_letter_queue for q in topology.queues if q.dead_letter_queue}
        dead_letter_ids |= {s.on_failure_queue for s in topology.stream_event_sources}
        dead_letter_ids |= {s.dead_letter_queue for s in topology.topic_event_sources}
        for queue_id in sorted(dead_letter_ids):
            queue = messaging.queues[queue_id]
            alarm(
                f"{pascal(queue_id)}Depth",
                queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
                f"{topology.queue(queue_id).name} holds messages Dawra gave up on: {topology.queue(queue_id).purpose}",
            )

        for sm_id, state_machine in lifecycle.state_machines.items():
            cid = pascal(sm_id)
            alarm(f"{cid}ExecutionsFailed", state_machine.metric_failed(period=FIVE_MINUTES, statistic="Sum"),
                  "An order ended in CancelledAfterFailure or another failed state: see the execution history.")
            alarm(f"{cid}ExecutionsTimedOut", state_machine.metric_timed_out(period=FIVE_MINUTES, statistic="Sum"),
                  "An order execution timed out.")
            alarm(f"{cid}ExecutionsAborted", state_machine.metric_aborted(period=FIVE_MINUTES, statistic="Sum"),
                  "An order execution was aborted.")

        # A job for later the scheduler gave up on (its retries spent, e.g. the role could not send to the queue) is
        # lost: nothing else would say so.
        for group_id, group in (later.groups if later else {}).items():
            alarm(f"{pascal(group_id)}SchedulesDropped", group.metric_dropped(period=FIVE_MINUTES, statistic="Sum"),
                  f"EventBridge Scheduler dropped a job for later in {topology.schedule_group(group_id).name}: it "
                  "never reached its queue (later-jobs or ops-jobs).")

        alarm("Api5xx", api.api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
              "The API answered 5xx (a function failed or a webhook could not be stored).", threshold=5)

        for function_id, deployed in functions.functions.items():
            cid = pascal(function_id)
            alarm(f"{cid}Errors", deployed.function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                  f"{deployed.spec.name} raised errors.")
            alarm(f"{cid}Throttles", deployed.function.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
                  f"{deployed.spec.name} was throttled (account concurrency).")

        # A stream mapping stuck on a record it keeps retrying (start-lifecycle retries until the record expires), or
        # falling behind: the age of what it reads grows long before anything reaches its failure queue.
        for source in topology.stream_event_sources:
            deployed = functions.functions[source.function]
            alarm(f"{pascal(source.function)}IteratorAge",
                  deployed.function.metric("IteratorAge", period=FIVE_MINUTES, statistic="Maximum"),
                  f"{deployed.spec.name} is reading {topology.table(source.table).name}'s stream more than "
                  f"{source.iterator_age_alarm_s} s behind (a record retried, or a backlog).",
                  threshold=source.iterator_age_alarm_s * 1000)

        namespace = POWERTOOLS_ENV["POWERTOOLS_METRICS_NAMESPACE"]
        service = POWERTOOLS_ENV["POWERTOOLS_SERVICE_NAME"]

        def business(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=namespace, metric_name=name, dimensions_map={"service": service},
                statistic="Sum", period=Duration.hours(1), label=name,
            )

        state_machine = lifecycle.state_machines["order-lifecycle"]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=DASHBOARD_NAME)
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown="# Dawra\nOrders, shipments and messages (hourly sums), then health.",
                                  width=24, height=2),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Orders", width=8,
                                   left=[business(n) for n in ("OrdersPlaced", "OrdersCompleted", "OrdersCancelled",
                                                               "OrdersNeedingAttention", "StockReservationsFailed")]),
            cloudwatch.GraphWidget(title="Shipments", width=8,
                                   left=[business(n) for n in ("ShipmentsPlanned", "ShipmentsShipped",
                                                               "ShipmentsDelivered", "TrackingEventsProcessed",
                                                               "WebhooksRejected", "UnitsReleased")]),
            cloudwatch.GraphWidget(title="Customer messages", width=8, left=[business("NotificationsSent")]),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Webhooks rejected, by reason (recorded and dropped, never retried)",
                                   width=24, left=[business(n) for n in metrics_names.WEBHOOKS_REJECTED_BY_REASON.values()]),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Order executions", width=8, left=[
                state_machine.metric_started(), state_machine.metric_succeeded(), state_machine.metric_failed(),
                state_machine.metric_timed_out()]),
            cloudwatch.GraphWidget(title="API", width=8, left=[api.api.metric_count()],
                                   right=[api.api.metric_client_error(), api.api.metric_server_error()]),
            cloudwatch.GraphWidget(title="API latency (p90)", width=8, left=[api.api.metric_latency(statistic="p90")]),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Function errors", width=12,
                                   left=[d.function.metric_errors(label=d.spec.name)
                                         for d in functions.functions.values()]),
            cloudwatch.GraphWidget(title="Dead-letter depth", width=12,
                                   left=[messaging.queues[q].metric_approximate_number_of_messages_visible(
                                       label=topology.queue(q).name) for q in sorted(dead_letter_ids)]),
        )
