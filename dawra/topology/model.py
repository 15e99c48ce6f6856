"""The shapes of Dawra's resource description: pure pydantic data, no boto3, no CDK.

Names are the *local* physical names (and the logical ids the CDK app derives construct ids from). Environment
variables and IAM grants do not hold names or ARNs: they hold a :class:`Ref` to a resource attribute, which each side
resolves to its own value (a local name or ARN, or a CloudFormation token).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

REPO_ROOT = Path(__file__).resolve().parents[2]

ResourceKind = Literal["table", "queue", "topic", "secret", "state_machine", "parameter", "configuration_set",
                       "user_pool", "schedule_group", "http_api", "bucket"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ref(_Frozen):
    """A reference to an attribute of another resource, resolved per side (local name or CDK token)."""

    kind: ResourceKind
    id: str
    # "id" and "client_id": a user pool's id and its app client's id; "role_arn": the role a schedule group's schedules
    # run with (the scheduler assumes it to send to the group's queue); "url" of an HTTP API: its endpoint, https://...
    # without a trailing "/" (its $default stage has no path prefix)
    attr: Literal["name", "arn", "url", "stream_arn", "value", "id", "client_id", "role_arn"] = "name"


class KeySchema(_Frozen):
    partition_key: str
    sort_key: str | None = None


class Index(_Frozen):
    name: str
    partition_key: str
    sort_key: str | None = None
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


class Table(_Frozen):
    id: str
    name: str
    keys: KeySchema
    indexes: tuple[Index, ...] = ()
    stream: Literal["NEW_IMAGE"] | None = None
    ttl_attribute: str | None = None
    purpose: str


class Queue(_Frozen):
    id: str
    name: str
    visibility_timeout_s: int = 30
    retention_s: int = 4 * 24 * 3600
    dead_letter_queue: str | None = None  # id of another Queue
    max_receive_count: int | None = None
    purpose: str


class Bucket(_Frozen):
    """An S3 bucket, private (public access blocked, TLS only, encrypted with S3-managed keys). Its physical name on
    AWS is CloudFormation's (bucket names are global); ``name`` is the embedded cloud's."""

    id: str
    name: str
    # A queue (its id) told of every object created in the bucket (S3 event notifications to SQS): the bucket may
    # send to it, nothing else may (the queue's policy, the CDK app's); locally moto delivers the same notification.
    notify_queue: str | None = None
    purpose: str


class Topic(_Frozen):
    id: str
    name: str
    # An AWS service that publishes to the topic itself (its principal <service>.amazonaws.com), for this account
    # only: the topic's policy lets it publish and the topic's key (one of its own) lets it encrypt. "sms-voice": AWS
    # End User Messaging SMS, delivering the inbound SMS of a number whose two-way channel is this topic.
    published_by: Literal["sms-voice"] | None = None
    purpose: str


class Secret(_Frozen):
    id: str
    name: str
    purpose: str


class Parameter(_Frozen):
    """A deploy-time setting (a CloudFormation parameter on AWS, a fixed value locally)."""

    id: str
    local_value: str
    purpose: str


class ConfigurationSet(_Frozen):
    """An SES configuration set (reputation metrics and bounce/complaint suppression are the CDK app's settings)."""

    id: str
    name: str
    purpose: str


class ScheduleGroup(_Frozen):
    """An EventBridge Scheduler schedule group for one-off jobs (dawra.ports.Later), and the role its schedules run
    with: the scheduler assumes it (for this account and this group only) to send each job to one of ``queues``, and
    it may do nothing else. The schedules themselves are created at run time, by the functions given SCHEDULE_LATER
    (dawra/topology/later.py), each naming its queue (by the job's kind)."""

    id: str
    name: str
    queues: tuple[str, ...] = Field(min_length=1)  # ids of the Queues a schedule of the group may send its job to
    purpose: str

    @property
    def grants(self) -> tuple[Grant, ...]:
        """The role's statements, rendered by each side like a function's: send to the group's queues, nothing else
        (SSE-SQS: no key to use)."""
        return (Grant(actions=("sqs:SendMessage",), resources=tuple(arn("queue", queue) for queue in self.queues)),)


class UserGroup(_Frozen):
    name: str
    description: str


class UserPool(_Frozen):
    """A Cognito user pool of people (operators), with its groups and one app client (no secret; sign-in with a
    password, SRP or a refresh token). Self sign-up is off: a manager (or the local stack) creates the users."""

    id: str
    name: str
    groups: tuple[UserGroup, ...]
    client_name: str
    # Custom attributes (String, mutable; "custom:<name>" in tokens), e.g. the operator's language.
    custom_attributes: tuple[str, ...] = ()
    # Attributes the app client may read, hence the ones in its ID tokens.
    client_read_attributes: tuple[str, ...] = ("email", "email_verified")
    # Passwords need this many characters and one each of upper case, lower case, digit and symbol.
    min_password_length: int = Field(default=12, ge=8)
    purpose: str


# --- IAM: what a function may do, as data ------------------------------------------------------------------------


class Arn(_Frozen):
    """The ARN of a resource in this topology (``ref.attr`` "arn", "stream_arn" or "role_arn"), followed by
    ``suffix`` (e.g. "/index/by-customer")."""

    ref: Ref
    suffix: str = ""

    @model_validator(mode="after")
    def _an_arn(self) -> Arn:
        if self.ref.attr not in ("arn", "stream_arn", "role_arn"):
            raise ValueError(f"{self.ref} is not an ARN")
        return self


class NamedArn(_Frozen):
    """``arn:<partition>:<service>:<region>:<account>:<resource_type>/<name>`` for what AWS addresses by a name
    another resource holds (an SES identity, an SES configuration set, the schedules of a schedule group).
    ``domain_of``: the name is what follows "@" in that value (the domain of an email address). ``suffix`` follows
    the name (e.g. "/*": every schedule of the group named)."""

    service: str
    resource_type: str
    name: Ref
    domain_of: bool = False
    suffix: str = ""


class AnyResource(_Frozen):
    """Resource "*", only for actions AWS authorises on no resource type. ``reason`` is mandatory: the CDK app
    attaches it, word for word, to the role's cdk-nag acknowledgment (AwsSolutions-IAM5)."""

    reason: str = Field(min_length=40)


class EveryArn(_Frozen):
    """``arn:<partition>:<service>:*:*:*``, every resource ARN of one service: only the resource of a Deny (e.g. every
    SNS topic, so that ``sns:Publish`` on "*" can reach phone numbers only)."""

    service: str


Resource = Arn | NamedArn | AnyResource | EveryArn


class Side(Protocol):
    """What a side (the CDK app, the embedded cloud) supplies to render a resource: its partition, region and
    account (literal values or tokens), its value of a Ref, and how it takes the domain of an email address."""

    partition: str
    region: str
    account: str

    def ref(self, ref: Ref, suffix: str = "") -> str: ...

    def domain_of(self, email: str) -> str: ...


def render_resource(resource: Resource, side: Side) -> str:
    """One rendering of a grant's resource for both sides, so they cannot drift apart."""
    if isinstance(resource, AnyResource):
        return "*"
    if isinstance(resource, EveryArn):
        return f"arn:{side.partition}:{resource.service}:*:*:*"
    if isinstance(resource, Arn):
        return side.ref(resource.ref, resource.suffix)
    name = side.ref(resource.name)
    if resource.domain_of:
        name = side.domain_of(name)
    return (f"arn:{side.partition}:{resource.service}:{side.region}:{side.account}:{resource.resource_type}/{name}"
            f"{resource.suffix}")


class Grant(_Frozen):
    """Allow ``actions`` on ``resources`` (or, with ``effect="Deny"``, refuse them whatever else allows them): one IAM
    statement on the function's role, rendered by the CDK app (CloudFormation tokens) and by the embedded cloud
    (local ARNs, the role's inline policy)."""

    effect: Literal["Allow", "Deny"] = "Allow"
    actions: tuple[str, ...] = Field(min_length=1)
    resources: tuple[Resource, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _exact(self) -> Grant:
        if any("*" in action or ":" not in action for action in self.actions):
            raise ValueError(f"actions are named exactly, service:Action, not {self.actions}")
        if len(self.resources) > 1 and any(isinstance(r, AnyResource) for r in self.resources):
            raise ValueError("a grant on any resource names no other resource")
        if self.effect == "Allow" and any(isinstance(r, EveryArn) for r in self.resources):
            raise ValueError("every ARN of a service is only ever denied, never allowed")
        return self

    @property
    def services(self) -> set[str]:
        """IAM service prefixes ("dynamodb", "states", ...)."""
        return {action.split(":", 1)[0] for action in self.actions}


def arn(kind: ResourceKind, id: str, suffix: str = "", attr: Literal["arn", "stream_arn"] = "arn") -> Arn:
    return Arn(ref=Ref(kind=kind, id=id, attr=attr), suffix=suffix)


# --- Compute and wiring ------------------------------------------------------------------------------------------


class Function(_Frozen):
    id: str
    name: str
    code: str  # folder under the repo root, e.g. functions/place_order
    handler: str  # module.function inside that folder
    memory_mb: int
    timeout_s: int
    environment: dict[str, Ref | str]
    # Statements on the function's own role. Not here (the CDK app adds them, docs/deploy.md): writing to its log
    # group, X-Ray, and what an event source mapping grants for itself (reading its queue or stream).
    grants: tuple[Grant, ...]
    purpose: str

    @property
    def code_path(self) -> Path:
        return REPO_ROOT / self.code

    @model_validator(mode="after")
    def _no_allow_its_own_deny_refuses(self) -> Function:
        """An explicit Deny wins over any Allow on AWS: an action denied on every ARN of its service (SMS_ONLY's
        sns:Publish) and allowed on some ARN (an ops-alerts topic) would be refused at run time, whatever the Allow
        says (decision 93). Only the Allow on "*" that the Deny narrows may share its action."""
        denied = {action for grant in self.grants if grant.effect == "Deny" for every in grant.resources
                  if isinstance(every, EveryArn) for action in grant.actions if action.startswith(every.service + ":")}
        for grant in self.grants:
            dead = denied & set(grant.actions)
            if grant.effect == "Allow" and dead and not all(isinstance(r, AnyResource) for r in grant.resources):
                raise ValueError(f"{self.id}: {sorted(dead)} allowed on an ARN its own Deny refuses on every ARN")
        return self


class StateMachine(_Frozen):
    id: str
    name: str
    definition: str  # path under the repo root
    # ASL ${placeholder} -> function id whose ARN replaces it
    substitutions: dict[str, str]
    purpose: str
    # ASL ${placeholder} -> table id whose name replaces it: the state machine updates items of that table itself
    # (an aws-sdk:dynamodb:updateItem task; its role may UpdateItem there, nothing else)
    table_substitutions: dict[str, str] = {}

    @property
    def definition_path(self) -> Path:
        return REPO_ROOT / self.definition


class Route(_Frozen):
    method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"]
    path: str  # API Gateway resource path, e.g. /orders/{order_id}; a last segment {name+} is greedy (/admin/{proxy+})
    target_kind: Literal["function", "queue"]
    target: str  # id of the Function or Queue
    # storefront: IAM (SigV4); cognito: the Cognito user pools authorizer of the topology's user pool (an ID token in
    # the Authorization header, its claims passed on in requestContext.authorizer.claims); none: the target
    # authenticates the request itself (an HMAC-signed webhook, the console's session cookie).
    authorization: Literal["storefront", "cognito", "none"]
    # Headers the route passes on untouched (queue integrations keep them in the envelope)
    forwarded_headers: tuple[str, ...] = ()
    purpose: str

    @model_validator(mode="after")
    def _greedy_last(self) -> Route:
        segments = self.path.split("/")
        if any(segment.endswith("+}") for segment in segments[:-1]):
            raise ValueError(f"{self.path}: only the last segment may be greedy ({{name+}})")
        return self


class HttpRoute(_Frozen):
    """One route of an :class:`HttpApi`: a Lambda proxy integration, payload format 2.0."""

    method: Literal["GET"]
    path: str  # e.g. /my-order/{token}/returns/{return_id}/label.pdf
    function: str  # id of the Function
    purpose: str


class HttpApi(_Frozen):
    """An API Gateway HTTP API (v2), its own origin, in front of functions whose answers must reach a browser as bytes
    (decision 78): an HTTP API sends a result with isBase64Encoded true on as the bytes, whatever the request's Accept
    header, where the REST API (binaryMediaTypes) would answer base64 text. One $default stage (no path prefix).
    Every route's authorization is NONE: the function authenticates each request itself; ``open_reason`` says how,
    and is attached word for word to the cdk-nag acknowledgments and checkov skips of the API's routes. No CORS: its
    routes are opened by a link, never fetched by a script of another origin."""

    id: str
    name: str
    routes: tuple[HttpRoute, ...] = Field(min_length=1)
    open_reason: str = Field(min_length=40)
    purpose: str


class QueueEventSource(_Frozen):
    queue: str
    function: str
    batch_size: int
    max_batching_window_s: int = 0
    report_batch_item_failures: bool = True


class StreamEventSource(_Frozen):
    table: str
    function: str
    batch_size: int
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    bisect_on_error: bool = True
    # None: retried until the record leaves the stream (24 hours; Lambda's default, -1), never given up on sooner.
    max_retry_attempts: int | None = Field(default=5, ge=0, le=10_000)
    # Batches of one shard processed at once (1-10; Lambda keeps each item's records in order across them).
    parallelization_factor: int = Field(default=1, ge=1, le=10)
    # The IteratorAge alarm: the age of the last record read when the function is invoked, in seconds (a mapping
    # stuck on a record, or falling behind, before anything reaches the failure queue).
    iterator_age_alarm_s: int = Field(default=300, ge=1)
    report_batch_item_failures: bool = True
    on_failure_queue: str  # id of the Queue that receives records given up on
    # Lambda event filter patterns (exact-value lists only): records matching none are dropped before invoking.
    filter_patterns: tuple[dict[str, Any], ...] = ()


class TopicEventSource(_Frozen):
    """A function subscribed to a topic (protocol lambda): SNS invokes it asynchronously, one message per event, and
    may (the topic's ARN as the source of a Lambda permission). ``dead_letter_queue`` (id of a Queue) receives both
    what SNS could not deliver to the function (the subscription's redrive policy; the queue's policy lets this topic
    send) and what the function failed on once Lambda's asynchronous retries were spent (the function's
    DeadLetterConfig; the CDK app grants the function sqs:SendMessage on it, as an event source mapping's own grant)."""

    topic: str
    function: str
    dead_letter_queue: str


class Topology(_Frozen):
    tables: tuple[Table, ...]
    queues: tuple[Queue, ...]
    topics: tuple[Topic, ...]
    secrets: tuple[Secret, ...]
    parameters: tuple[Parameter, ...]
    configuration_sets: tuple[ConfigurationSet, ...] = ()
    functions: tuple[Function, ...]
    state_machines: tuple[StateMachine, ...]
    routes: tuple[Route, ...]
    queue_event_sources: tuple[QueueEventSource, ...]
    stream_event_sources: tuple[StreamEventSource, ...]
    topic_event_sources: tuple[TopicEventSource, ...] = ()
    user_pools: tuple[UserPool, ...] = ()
    schedule_groups: tuple[ScheduleGroup, ...] = ()
    http_apis: tuple[HttpApi, ...] = ()
    buckets: tuple[Bucket, ...] = ()

    @model_validator(mode="after")
    def _http_routes_name_functions(self) -> Topology:
        functions = {function.id for function in self.functions}
        for api in self.http_apis:
            for route in api.routes:
                if route.function not in functions:
                    raise ValueError(f"HTTP API {api.id}: {route.path}: {route.function} names no function")
        return self

    @model_validator(mode="after")
    def _schedule_groups_send_to_queues(self) -> Topology:
        queues = {queue.id for queue in self.queues}
        for group in self.schedule_groups:
            if not set(group.queues) <= queues:
                raise ValueError(f"schedule group {group.id}: {group.queues} names a queue not of this topology")
        return self

    @model_validator(mode="after")
    def _buckets_notify_queues(self) -> Topology:
        queues = {queue.id for queue in self.queues}
        for bucket in self.buckets:
            if bucket.notify_queue is not None and bucket.notify_queue not in queues:
                raise ValueError(f"bucket {bucket.id}: {bucket.notify_queue} names no queue of this topology")
        return self

    @model_validator(mode="after")
    def _topic_event_sources_name_resources(self) -> Topology:
        topics, queues = {t.id for t in self.topics}, {q.id for q in self.queues}
        functions = {f.id for f in self.functions}
        for source in self.topic_event_sources:
            if (source.topic not in topics or source.function not in functions
                    or source.dead_letter_queue not in queues):
                raise ValueError(f"topic event source {source}: names no topic, function or queue of this topology")
        return self

    @model_validator(mode="after")
    def _cognito_routes_have_one_pool(self) -> Topology:
        if any(route.authorization == "cognito" for route in self.routes) and len(self.user_pools) != 1:
            raise ValueError("routes with cognito authorization need exactly one user pool in the topology")
        return self

    @model_validator(mode="after")
    def _refs_name_resources(self) -> Topology:
        ids = {kind: {item.id for item in items} for kind, items in self._by_kind().items()}
        for function in self.functions:
            refs = [value for value in function.environment.values() if isinstance(value, Ref)]
            refs += [r.ref if isinstance(r, Arn) else r.name for grant in function.grants for r in grant.resources
                     if isinstance(r, Arn | NamedArn)]
            for ref in refs:
                if ref.id not in ids[ref.kind]:
                    raise ValueError(f"{function.id}: {ref} names no {ref.kind} of this topology")
                if ref.kind == "http_api" and ref.attr != "url":
                    raise ValueError(f"{function.id}: {ref}: an HTTP API is referred to by its URL only")
        return self

    def _by_kind(self) -> dict[str, tuple[_Identified, ...]]:
        return {"table": self.tables, "queue": self.queues, "topic": self.topics, "secret": self.secrets,
                "parameter": self.parameters, "configuration_set": self.configuration_sets,
                "state_machine": self.state_machines, "user_pool": self.user_pools,
                "schedule_group": self.schedule_groups, "http_api": self.http_apis, "bucket": self.buckets}

    def topic(self, id: str) -> Topic:
        return _by_id(self.topics, id)

    def table(self, id: str) -> Table:
        return _by_id(self.tables, id)

    def queue(self, id: str) -> Queue:
        return _by_id(self.queues, id)

    def function(self, id: str) -> Function:
        return _by_id(self.functions, id)

    def http_api(self, id: str) -> HttpApi:
        return _by_id(self.http_apis, id)

    def state_machine(self, id: str) -> StateMachine:
        return _by_id(self.state_machines, id)

    def user_pool(self, id: str) -> UserPool:
        return _by_id(self.user_pools, id)

    def schedule_group(self, id: str) -> ScheduleGroup:
        return _by_id(self.schedule_groups, id)

    def bucket(self, id: str) -> Bucket:
        return _by_id(self.buckets, id)

    @property
    def operators_pool(self) -> UserPool:
        """The user pool whose authorizer guards the routes with cognito authorization."""
        (pool,) = self.user_pools
        return pool


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


_ResourceT = TypeVar("_ResourceT", bound=_Identified)


def _by_id(items: Iterable[_ResourceT], id: str) -> _ResourceT:
    for item in items:
        if item.id == id:
            return item
    raise KeyError(id)
