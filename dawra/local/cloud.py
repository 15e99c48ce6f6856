"""The embedded cloud: moto, made to behave like the parts of AWS Dawra relies on, in one process.

What it adds to moto (each measured or documented in docs/decisions.md):
- Lambda invocations (Step Functions tasks, direct invokes, our pollers, the HTTP gateway) run the real handler named
  by the function's Handler, in-process, with a Lambda context; a raised error reaches the caller as
  ``{"errorType": <class name>, ...}`` so ASL Retry/Catch match on it. Each function keeps a small pool of warm
  "containers" (separately imported module instances), one invocation at a time each, as Lambda does.
- DynamoDB (and its streams) handle one request at a time, so conditional writes and transactions are atomic;
  transactions check every condition before writing (dawra/local/transactions.py) instead of copying tables; a
  Query on a table's key lists one partition, not the whole table, and data-plane results are written as JSON (both
  for speed: a flash sale of 1,000 orders, bench/flash_sale.py).
- For the lifecycle's throughput (bench/lifecycle.py): each state machine definition, and each JSONPath its states
  read, is parsed once, not per execution; a Query on an index does not sort the whole table first; a stream read
  made in :func:`filtered_stream_read` (the stream poller's) answers only the records its filter lets through,
  judged before anything is serialised, and GetRecords is written as JSON; invocations and executions that end say
  which (dawra/local/activity.py), for whoever waits on them.
- Step Functions tasks reuse boto3 clients instead of building one per task.
- Optional fault injection (dawra/local/faults.py): throttling and ambiguous failures for calls made by
  handlers, the gateway's SQS integration and the pollers; `time_scale` shortens the pollers' SQS visibility
  timeouts. Both are local-only knobs for tests; neither exists in the topology.
- moto's /moto-api/data.json works (see `_no_docker`), and the outbox lists emails and SMS in the order sent.
- SNS -> Lambda: moto's SNS delivers a message published to a topic to its Lambda subscribers in the publishing call;
  here that is an asynchronous invocation as AWS makes one (the event Lambda receives from SNS, the first attempt and
  two retries, then the function's dead-letter queue, which moto's Lambda does not keep: :meth:`InProcessLambda.
  deliver_sns`).
- EventBridge Scheduler: moto keeps schedule groups and schedules but never fires one; the schedule poller
  (dawra/local/pollers.py) does, for one-time ``at(...)`` schedules of the topology's groups, with the real clock.
- Resources come from :data:`dawra.topology.TOPOLOGY`, the description the CDK app reads too. Each function gets a
  role of its own (``dawra-local-<function id>``) whose inline policy is the topology's grants rendered with local
  ARNs (:meth:`EmbeddedCloud.policy_document`). moto does not enforce IAM: the policy is there to be compared.
- The operators' user pool (moto's cognito-idp issues RS256 ID tokens, ``iss`` as on AWS): its JWKS is served by
  moto's HTTP endpoint at ``/<pool id>/.well-known/jwks.json`` when the stack runs one (``aws_endpoint``), and the
  functions fetch it there (``DAWRA_JWKS_URL``); without an endpoint, :meth:`EmbeddedCloud.cognito_jwks` is the
  same key set as data (moto signs every pool with one key pair, so the issuer check is what tells pools apart).
"""

from __future__ import annotations

import base64
import importlib.util
import io
import itertools
import json
import os
import secrets
import sys
import threading
import time
import traceback
import uuid
import zipfile
from abc import ABCMeta
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, Self

import boto3
from botocore.config import Config

from dawra.contracts import env as E
from dawra.local import activity
from dawra.local import faults as fault_injection
from dawra.local.faults import FaultPlan, Faults, fault_scope
from dawra.topology import (
    TOPOLOGY,
    Bucket,
    Function,
    Grant,
    HttpApi,
    Ref,
    Resource,
    ScheduleGroup,
    TopicEventSource,
    Topology,
    UserPool,
)
from dawra.topology.model import render_resource

if TYPE_CHECKING:
    from moto.awslambda.models import LambdaFunction
    from moto.core.common_types import TYPE_RESPONSE
    from moto.core.models import MockAWS
    from moto.core.responses import BaseResponse
    from moto.ses.models import Message, SESBackend
    from moto.sns.models import SNSBackend

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_PREFIX = "dawra-local-"  # + function id (one role per function) or state machine id
GRANTS_POLICY = "topology-grants"
SCHEDULER_ROLE_PREFIX = "dawra-local-scheduler-"  # + schedule group id: the role its schedules run with
MAX_WARM_CONTAINERS = 8
ASYNC_ATTEMPTS = 3  # an asynchronous invocation (SNS's): the first attempt and Lambda's two retries (its default)

# Environment the local stack adds for every function (on AWS these are the deployment's concern).
LOCAL_FUNCTION_ENV = {
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    "POWERTOOLS_METRICS_DISABLED": "true",  # EMF lines would drown the demo's output
    "POWERTOOLS_LOG_LEVEL": os.environ.get("DAWRA_LOCAL_LOG_LEVEL", "WARNING"),
    "POWERTOOLS_IDEMPOTENCY_DISABLED": "false",
    "DAWRA_LOCAL_OUTBOX_PATH": "/_local/outbox",  # the console's operations view links the local outbox
}


# --- Lambda, in-process ------------------------------------------------------------------------------------------


class LambdaContext:
    """What Lambda passes as `context`: the attributes Powertools and our handlers read."""

    def __init__(self, function: Function, arn: str):
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class SnsSubscription:
    """A function subscribed to a topic (TopicEventSource), as the embedded cloud made it."""

    topic_arn: str
    subscription_arn: str
    function_arn: str
    dead_letter_queue_url: str  # the function's DeadLetterConfig: what it failed on, its retries spent


_cold_start_lock = threading.Lock()
_containers = itertools.count(1)
Handler = Callable[[Any, LambdaContext], Any]  # a Lambda handler: (event, context) -> a JSON-serialisable result


@contextmanager
def _own_loggers(container: str) -> Iterator[None]:
    """Each container's Powertools Loggers get a standard logger of their own, as each Lambda container (a process of
    its own) has. Powertools names the standard logger after the service, which is `dawra` everywhere, so without
    this every in-process function would share one logger and one formatter: one function's appended keys and
    correlation id would show up in another's lines. Log lines still say service=dawra, as on AWS."""
    import logging

    from aws_lambda_powertools.logging.logger import Logger

    original = Logger._get_logger
    unique = f"dawra-local.{container}.{next(_containers)}"  # never reused, even by a later cloud in this process
    # Powertools' private logger factory is replaced for the import; mypy forbids assigning to a method.
    Logger._get_logger = lambda self: logging.getLogger(unique)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Logger._get_logger = original  # type: ignore[method-assign]


@dataclass
class _FunctionRuntime:
    function: Function
    idle: list[Handler] = field(default_factory=list)
    created: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    available: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(MAX_WARM_CONTAINERS))

    def _cold_start(self) -> Handler:
        module_file, attr = self.function.handler.rsplit(".", 1)
        path = self.function.code_path / f"{module_file.replace('.', '/')}.py"
        self.created += 1
        name = f"dawra_local_fn.{self.function.id.replace('-', '_')}.c{self.created}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path} as a module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        with _cold_start_lock, _own_loggers(name):  # separate processes on Lambda: one import at a time here
            before = set(sys.modules)
            sys.path.insert(0, str(self.function.code_path))  # as Lambda's task root: the folder's own modules
            try:
                spec.loader.exec_module(module)
            finally:
                sys.path.remove(str(self.function.code_path))
                # The folder's modules belong to this container: the next cold start imports its own copies.
                for imported in set(sys.modules) - before:
                    origin = getattr(sys.modules[imported], "__file__", None) or ""
                    if "." not in imported and origin.startswith(str(self.function.code_path)):
                        sys.modules[f"{name}.{imported}"] = sys.modules.pop(imported)
        handler: Handler = getattr(module, attr)
        return handler

    @contextmanager
    def container(self) -> Iterator[Handler]:
        self.available.acquire()
        try:
            with self.lock:
                handler = self.idle.pop() if self.idle else None
            if handler is None:
                handler = self._cold_start()
            try:
                yield handler
            finally:
                with self.lock:
                    self.idle.append(handler)
        finally:
            self.available.release()


class InProcessLambda:
    """Replaces moto's Docker-based invocation with a call of the real handler."""

    def __init__(self, topology: Topology):
        self.by_name = {fn.name: _FunctionRuntime(fn) for fn in topology.functions}
        self.invocations: dict[str, int] = {fn.name: 0 for fn in topology.functions}
        self.errors: dict[str, int] = {fn.name: 0 for fn in topology.functions}  # Lambda's Errors metric
        self.subscriptions: dict[str, SnsSubscription] = {}  # by function name
        self._count_lock = threading.Lock()

    def deliver_sns(self, function_name: str, message: str, subject: str | None) -> None:
        """SNS's delivery of one message to a subscribed function: the event Lambda documents for SNS (one record),
        invoked asynchronously, i.e. tried again twice on an error (at once here; Lambda waits a minute, then two),
        and then sent to the function's dead-letter queue as Lambda sends it (the event as the body; RequestID,
        ErrorCode and ErrorMessage as attributes). Nothing goes back to the publisher, as on AWS."""
        subscription = self.subscriptions[function_name]
        request_id = str(uuid.uuid4())
        event = {"Records": [{
            "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription.subscription_arn,
            "Sns": {"Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": subscription.topic_arn,
                    "Subject": subject, "Message": message, "MessageAttributes": {},
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "SignatureVersion": "1",
                    "Signature": "EXAMPLE", "SigningCertUrl": "EXAMPLE", "UnsubscribeUrl": "EXAMPLE"}}]}
        for _ in range(ASYNC_ATTEMPTS):
            body, errored, _ = self.invoke(function_name, subscription.function_arn, event)
            if not errored:
                return
        error = json.loads(body)
        boto3.client("sqs", region_name=REGION).send_message(
            QueueUrl=subscription.dead_letter_queue_url, MessageBody=json.dumps(event), MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": str(error.get("errorMessage", ""))[:1024]
                                 or str(error.get("errorType", "error"))}})

    def invoke(self, function_name: str, arn: str, event: Any) -> tuple[str, bool, str]:
        runtime = self.by_name.get(function_name)
        if runtime is None:
            body: dict[str, str | list[str]] = {
                "errorType": "ResourceNotFound", "errorMessage": f"no local handler for {function_name}"}
            return json.dumps(body), True, ""
        with self._count_lock:
            self.invocations[function_name] += 1
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        with runtime.container() as handler, fault_scope():  # the handler's own AWS calls may be faulted
            try:
                result = handler(event, LambdaContext(runtime.function, arn))
                return json.dumps(result), False, ""
            except Exception as error:  # noqa: BLE001 - every error becomes Lambda's error payload
                with self._count_lock:
                    self.errors[function_name] += 1
                if os.environ.get("DAWRA_LOCAL_DEBUG"):
                    traceback.print_exception(error, file=sys.stderr)
                body = {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error)[-5:],
                }
                return json.dumps(body), True, ""
            finally:
                _forget_unpublished_metrics()
                order_id = event.get("order_id") if isinstance(event, dict) else None  # a workflow task's payload
                activity.changed(function_name, *([activity.about(function_name, order_id)]
                                                  if isinstance(order_id, str) else []))


def _forget_unpublished_metrics() -> None:
    """Powertools keeps metrics in class-level dicts that only a flush clears, and a flush with metrics disabled (as
    locally) does not: without this they would pile up for the life of the local stack, and be printed all at once
    by the first flush that runs with metrics enabled."""
    from aws_lambda_powertools.metrics import Metrics
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if is_metrics_disabled():
        Metrics._metrics.clear()
        Metrics._metadata.clear()


# --- Patches to moto ---------------------------------------------------------------------------------------------

_dynamodb_lock = threading.RLock()
# moto's SQS backend is not thread-safe either: ReceiveMessage iterates a queue's set of in-flight messages while
# another thread's SendMessage or DeleteMessage changes it ("Set changed size during iteration", seen in the bench's
# throughput run). No receive here waits (no long polling), so holding the lock for a call never blocks for long.
_sqs_lock = threading.RLock()
_patched = False
_active_lambda: InProcessLambda | None = None
_send_order: dict[tuple[str, str], int] = {}  # ("email" | "sms", message id) -> position in send order
_send_counter = itertools.count()
_step_functions_clients: dict[tuple[str, str], Any] = {}  # (region, service) -> the client the interpreter reuses


def _no_docker(self: LambdaFunction) -> NoReturn:
    """moto's GET /moto-api/data.json reads every public attribute of every model and skips only TypeError,
    AttributeError and ValueError. LambdaFunction.docker_client is a property that connects to Docker and,
    with no Docker daemon, raises DockerException: data.json answered 500 as soon as our functions existed.
    Handlers run in-process here, so there is no Docker client to give; AttributeError makes data.json skip
    the attribute."""
    raise AttributeError("the embedded cloud runs Lambda handlers in-process, without Docker")


class _PerThread:
    """A class attribute whose value belongs to the thread that set it."""

    def __init__(self, name: str) -> None:
        self.name, self.local = name, threading.local()

    def __get__(self, instance: object, owner: type) -> Any:
        try:
            return self.local.value
        except AttributeError:
            raise AttributeError(self.name) from None

    def set(self, value: Any) -> None:
        self.local.value = value


class _PerThreadClassAttributes(ABCMeta):
    def __setattr__(cls, name: str, value: Any) -> None:
        slot = cls.__dict__.get(name)
        if isinstance(slot, _PerThread):
            slot.set(value)
        else:
            super().__setattr__(name, value)


def _one_event_per_thread() -> None:
    """Powertools' event handler keeps the event being resolved on a class attribute (BaseRouter.current_event, and
    lambda_context): right on Lambda, where a process serves one invocation at a time, wrong here, where containers
    of the API share a process. Two concurrent requests then read each other's headers and body (the chaos tier saw
    a checkout answered with another key's order). Here those two attributes hold one value per thread, and every
    invocation runs on its own thread: what separate processes give, without serialising requests."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    for name in ("current_event", "lambda_context"):
        type.__setattr__(BaseRouter, name, _PerThread(name))
    # Class-level assignments now go to the thread's slot (mypy cannot see a class's class being replaced).
    BaseRouter.__class__ = _PerThreadClassAttributes  # type: ignore[method-assign,assignment]


def _tell_when_executions_end() -> None:
    """An execution that ends wakes whoever waits on the cloud, or on that execution (dawra/local/activity.py)."""
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original = BaseExecutionWorkerCommunication.terminated

    def terminated(self: BaseExecutionWorkerCommunication) -> None:
        try:
            original(self)
        finally:
            activity.changed(self.execution.exec_arn)

    BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]


def _parse_each_definition_once() -> None:
    """moto 5.2.5 parses the state machine's definition (ANTLR, in pure Python) again for every execution it starts:
    a sixth of the embedded cloud's CPU in the bench's throughput run (bench/lifecycle.py, sampled). The program it
    parses to is a tree of declarations that keeps nothing of an execution (each execution's state is in its
    Environment; a Map's iterations already evaluate one tree concurrently), so each definition is parsed once per
    process and its program shared by the executions of every state machine with that definition."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker._get_evaluation_entrypoint
    programs: dict[str, Any] = {}
    lock = threading.Lock()

    def _get_evaluation_entrypoint(self: ExecutionWorker) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        with lock:
            program = programs.get(definition)
        if program is None:
            program = original(self)
            with lock:
                program = programs.setdefault(definition, program)
        return program

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint  # type: ignore[method-assign]


JSON_PATHS_KEPT = 4096  # parsed JSONPaths kept per process; a definition names a few dozen, each state reads its own


def _parse_each_json_path_once() -> None:
    """moto 5.2.5's Step Functions interpreter parses a JSONPath (jsonpath_ng: a new LALR parser, its tables read
    again, for every parse) each time a state reads one: every `.$` parameter, Choice variable and ResultPath of every
    execution: 7% of the throughput run's CPU (bench/lifecycle.py, cProfile on thread CPU time). A parsed path is a tree
    of its steps that keeps nothing of the data it is applied to (find and update_or_create only read it), so each
    path is parsed once per process and the tree shared by every state and thread that reads it."""
    import functools

    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):  # both imported jsonpath_ng's parse by name
        module.parse = functools.lru_cache(maxsize=JSON_PATHS_KEPT)(module.parse)  # type: ignore[attr-defined]


def _install_patches() -> None:
    """Patch moto once per process; the active InProcessLambda is swapped per EmbeddedCloud."""
    global _patched
    if _patched:
        return
    _one_event_per_thread()
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def _invoke_lambda(self: LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
        if _active_lambda is None:
            raise RuntimeError("no embedded cloud is running")
        return _active_lambda.invoke(self.function_name, self.function_arn, event)

    def send_sns_message(self: LambdaBackend, function_name: str, message: str, subject: str | None = None,
                         qualifier: str | None = None) -> None:
        if _active_lambda is None:
            raise RuntimeError("no embedded cloud is running")
        _active_lambda.deliver_sns(function_name, message, subject)

    # Each `type: ignore[method-assign]` here replaces a moto method at run time, which mypy forbids by design.
    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    LambdaBackend.send_sns_message = send_sns_message  # type: ignore[method-assign]
    _tell_when_executions_end()
    _parse_each_definition_once()
    _parse_each_json_path_once()
    # A property replaces this property (mypy also reports the property object where it expects the getter).
    LambdaFunction.docker_client = property(_no_docker)  # type: ignore[method-assign, assignment]

    # Check-then-write transactions instead of moto's deep copy of whole tables (see dawra/local/transactions.py).
    from moto.dynamodb.models import DynamoDBBackend

    from dawra.local.transactions import transact_write_items

    # (and `assignment`: the replacement calls its first parameter `backend`, where moto's method says `self`)
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign, assignment]
    _query_one_partition()
    _dynamodb_items_as_json()
    _stream_records_filtered_then_json()

    from moto.sqs.responses import SQSResponse

    for handler_class, lock in ((DynamoHandler, _dynamodb_lock), (DynamoDBStreamsHandler, _dynamodb_lock),
                                (SQSResponse, _sqs_lock)):
        original = handler_class.call_action

        def call_action(self: BaseResponse, _original: Callable[[BaseResponse], TYPE_RESPONSE] = original,
                        _lock: threading.RLock = lock) -> TYPE_RESPONSE:
            with _lock:
                return _original(self)

        handler_class.call_action = call_action  # type: ignore[method-assign]

    # Step Functions' interpreter builds a boto3 client for every task; reuse them (thread-safe for calls).
    import moto.stepfunctions.parser.asl.utils.boto_client as boto_client_module

    original_client_for = boto_client_module.boto_client_for
    cache = _step_functions_clients
    cache_lock = threading.Lock()

    def cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        with cache_lock:
            if key not in cache:
                cache[key] = original_client_for(region=region, service=service, state_credentials=state_credentials)
            return cache[key]

    importlib.import_module("moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils")
    for module in list(sys.modules.values()):
        if getattr(module, "boto_client_for", None) is original_client_for:
            # any module that imported moto's function by name: mypy cannot know it has that attribute
            module.boto_client_for = cached_client_for  # type: ignore[attr-defined]
    boto_client_module.boto_client_for = cached_client_for

    # The outbox in send order across channels: moto keeps emails and SMS in two separate collections.
    from moto.ses.models import SESBackend
    from moto.sns.models import SNSBackend

    original_send_email, original_publish = SESBackend.send_email, SNSBackend.publish

    def send_email(self: SESBackend, *args: Any, **kwargs: Any) -> Message:
        message = original_send_email(self, *args, **kwargs)
        _send_order[("email", message.id)] = next(_send_counter)
        return message

    def publish(self: SNSBackend, *args: Any, **kwargs: Any) -> str:
        message_id = original_publish(self, *args, **kwargs)
        if message_id in self.sms_messages:
            _send_order[("sms", message_id)] = next(_send_counter)
        return message_id

    SESBackend.send_email = send_email  # type: ignore[method-assign]
    SNSBackend.publish = publish  # type: ignore[method-assign]
    fault_injection.install()
    _patched = True


class _Partition:
    """A moto table seen through one partition: what its Query lists as the candidates (see _query_one_partition)."""

    def __init__(self, table: Any, hash_key: Any):
        self._table, self._hash_key = table, hash_key

    def all_items(self) -> list[Any]:
        found = self._table.items.get(self._hash_key)  # a defaultdict: .get adds no empty partition
        if found is None:
            return []
        return list(found.values()) if self._table.range_key_attr else [found]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


class _Unsorted:
    """A moto table whose items are listed as stored, not sorted first (see _query_one_partition)."""

    def __init__(self, table: Any):
        self._table = table

    def all_items(self) -> list[Any]:
        stored = self._table.items.values()
        if not self._table.range_key_attr:
            return list(stored)
        return [item for partition in stored for item in partition.values()]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _query_one_partition() -> None:
    """moto 5.2.5 answers a Query on a table's own key by listing and sorting every item of the table, then keeping
    the partition asked for: each order read got slower with every order stored (the flash sale's 1,000 orders,
    bench/flash_sale.py: 0.16 s a reservation after 60 orders and growing). Here it lists that partition's items
    only; the rest of moto's Query (sort, key condition, filter, pages, limits) is its own.

    A Query on an index still looks at every item (moto keeps no index), but moto sorted the whole table by its key
    first and then sorted the items it kept again, by the index's key and the table's: the first sort, of hundreds of
    items compared through DynamoType, was most of a parcel's lookup by tracking number (the tracking consumer's
    first read; 5% of the throughput run's CPU, profiled). The items are handed over unsorted; moto's own sort of
    what it keeps decides the order, which the table's key (in every sort key it uses) makes total, so answers are
    unchanged."""
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name:
            return original(_Unsorted(self), hash_key, *args, **kwargs)  # type: ignore[arg-type]
        if hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        return original(_Partition(self, hash_key), hash_key, *args, **kwargs)  # type: ignore[arg-type]

    Table.query = query  # type: ignore[method-assign]


DATA_PLANE = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                        "BatchWriteItem", "TransactGetItems", "TransactWriteItems"})


def _dynamodb_items_as_json() -> None:
    """moto 5.2.5 writes every response through a serializer driven by botocore's model, member by member: for
    DynamoDB items (a map of attribute values, each a union of ten members) that was 40% of a reservation's time
    (bench/flash_sale.py, profiled). A data-plane result is already in DynamoDB's wire shape (attribute values as
    {"S": ...}), so it is written as JSON directly; anything json cannot write goes through moto's serializer.
    Query and Scan hand over moto's own attribute values (DynamoType: a type and a value, maps and lists of them),
    written as their {type: value}; binary values (Dawra's compressed attributes) base64, as moto's serializer
    writes them. Without this, every Query went through moto's serializer (a fifth of the throughput run's CPU)."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.serialized

    def base64_text(value: str | bytes) -> str:  # moto's ResponseSerializer._base64
        return base64.b64encode(value.encode() if isinstance(value, str) else value).strip().decode()

    def attribute_value(value: Any) -> dict[str, Any] | str:
        if isinstance(value, bytes):  # a binary value of an attribute kept as a plain {"B": bytes}
            return base64_text(value)
        if type(value) is not DynamoType:
            raise TypeError(f"not written as JSON here: {type(value).__name__}")
        if value.type == "B":
            return {"B": base64_text(value.value)}
        if value.type == "BS":
            return {"BS": [base64_text(member) for member in value.value]}
        return {value.type: value.value}

    def serialized(self: BaseResponse, action_result: Any) -> TYPE_RESPONSE:
        result = action_result.result
        if isinstance(result, dict) and self._get_action() in DATA_PLANE:
            try:
                body = json.dumps(result, default=attribute_value)
            except (TypeError, ValueError):
                return original(self, action_result)
            return 200, {**self.response_headers, "Content-Type": "application/x-amz-json-1.0"}, body
        return original(self, action_result)

    DynamoHandler.serialized = serialized  # type: ignore[method-assign]


@dataclass
class StreamRead:
    """One GetRecords read inside :func:`filtered_stream_read`: the records `wanted` lets through are answered;
    `last_sequence` is the last record read, let through or not (where the next read starts)."""

    wanted: Callable[[dict[str, Any]], bool]
    last_sequence: str | None = None


_stream_reads = threading.local()


@contextmanager
def filtered_stream_read(wanted: Callable[[dict[str, Any]], bool]) -> Iterator[StreamRead]:
    """A DynamoDB Streams GetRecords made on this thread while inside answers only the records `wanted` lets through,
    judged on moto's own record (its images as stored: not serialised, not copied). What Lambda's event source mapping
    does inside AWS: filtered-out records never reach the function, and here they are not serialised either."""
    read = StreamRead(wanted)
    _stream_reads.current = read
    try:
        yield read
    finally:
        _stream_reads.current = None


def _stream_records_filtered_then_json() -> None:
    """GetRecords: the filter of :func:`filtered_stream_read` first, then the records left written as JSON (moto's
    serializer walked every member of every image of every record: an eighth of the throughput run's CPU, most of it
    on records the notifier's filter then dropped). Timestamps are written as moto writes them for a JSON protocol
    (epoch seconds, milliseconds kept), binary values base64; anything else goes through moto's serializer."""
    from botocore.utils import parse_to_aware_datetime
    from moto.core.responses import ActionResult
    from moto.core.serialize import TimestampSerializer
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    original_get_records, original_serialized = DynamoDBStreamsHandler.get_records, DynamoDBStreamsHandler.serialized

    def get_records(self: DynamoDBStreamsHandler) -> ActionResult:
        result = original_get_records(self)
        read: StreamRead | None = getattr(_stream_reads, "current", None)
        answer = result.result
        if read is None or not isinstance(answer, dict):
            return result
        records = answer["Records"]
        if records:
            read.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
        return ActionResult({**answer, "Records": [record for record in records if read.wanted(record)]})

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return TimestampSerializer._timestamp_unixtimestamp(parse_to_aware_datetime(value))
        if isinstance(value, bytes):
            return base64.b64encode(value).strip().decode()
        raise TypeError(f"not written as JSON here: {type(value).__name__}")

    def serialized(self: BaseResponse, action_result: Any) -> TYPE_RESPONSE:
        if self._get_action() == "GetRecords" and isinstance(action_result.result, dict):
            try:
                body = json.dumps(action_result.result, default=plain)
            except (TypeError, ValueError):
                return original_serialized(self, action_result)
            return 200, {**self.response_headers, "Content-Type": "application/x-amz-json-1.0"}, body
        return original_serialized(self, action_result)

    DynamoDBStreamsHandler.get_records = get_records  # type: ignore[method-assign]
    DynamoDBStreamsHandler.serialized = serialized  # type: ignore[method-assign]


def _clear_step_functions_client_cache() -> None:
    _step_functions_clients.clear()


# --- The cloud ---------------------------------------------------------------------------------------------------


class EmbeddedCloud:
    """Start with :meth:`start` (or use as a context manager); everything in TOPOLOGY exists afterwards."""

    def __init__(self, topology: Topology = TOPOLOGY, fault_plan: FaultPlan | None = None,
                 time_scale: float = 1.0):
        """fault_plan: see dawra/local/faults.py (switch it with `cloud.faults`). time_scale (0 < s <= 1,
        local only) scales the SQS visibility timeout the pollers receive with (at least 1 s), so a failed
        message comes back sooner in tests; nothing else is scaled."""
        if not 0 < time_scale <= 1:
            raise ValueError(f"time_scale must be in (0, 1], not {time_scale}")
        self.topology = topology
        self.lambdas = InProcessLambda(topology)
        self.faults = Faults(fault_plan)
        self.time_scale = time_scale
        self._mock: MockAWS | None = None
        self._clients: dict[tuple[str, int | None], Any] = {}
        self.carrier_secrets: dict[str, str] = {}
        self.resolved: dict[tuple[str, str, str], str] = {}
        # moto's HTTP endpoint, when the stack runs one (set before start): the functions fetch the JWKS there.
        self.aws_endpoint: str | None = None
        self.jwks_url: str | None = None
        # Parameters whose local value is only known when the stack starts (set before start), by parameter id: the
        # gateway's URL is the customer-site-url, so a link in a message from the outbox opens in a browser.
        self.parameter_values: dict[str, str] = {}
        # The URLs of the HTTP APIs the local stack serves (set before start), by HTTP API id: what a Ref to an HTTP
        # API's "url" resolves to (dawra/local/http_api.py). Without one (a cloud with no HTTP servers), "".
        self.http_api_urls: dict[str, str] = {}

    # lifecycle
    def start(self) -> EmbeddedCloud:
        global _active_lambda
        if _active_lambda is not None:
            raise RuntimeError("an embedded cloud is already running in this process")
        # The sandbox payment provider's ledger of idempotency keys is per cloud, as a provider account would be.
        from dawra.adapters.payments import new_sandbox_ledger

        new_sandbox_ledger()
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION,
                           "AWS_REGION": REGION}.items():
            os.environ[key] = value
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.environ.pop(E.JWKS_URL, None)  # a previous cloud's endpoint, in this process
        from moto import mock_aws

        _install_patches()
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                      "core": {"reset_boto3_session": True}})
        self._mock.start()
        _active_lambda = self.lambdas
        _send_order.clear()
        _clear_step_functions_client_cache()
        from dawra.adapters import aws
        from dawra.contracts.env import settings

        aws.reset_clients()
        settings.cache_clear()
        self._create_resources()
        fault_injection.activate(self.faults)
        return self

    def stop(self) -> None:
        global _active_lambda
        if self._mock is not None:
            self._stop_running_executions()
            self._mock.stop()
            self._mock = None
        _active_lambda = None
        fault_injection.activate(None)
        _clear_step_functions_client_cache()

    def _stop_running_executions(self) -> None:
        """Executions still waiting (a parcel never delivered in a test) run on the interpreter's threads; left alone
        they would go on invoking tasks against whichever cloud this process starts next."""
        sfn = self.client("stepfunctions")
        for machine in sfn.list_state_machines()["stateMachines"]:
            for page in sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"):
                for execution in page["executions"]:
                    sfn.stop_execution(executionArn=execution["executionArn"], cause="the embedded cloud stopped")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, service: str, attempts: int | None = None) -> Any:
        """A cached client; `attempts` caps the total attempts per call (1: botocore does not retry)."""
        key = (service, attempts)
        if key not in self._clients:
            config = Config(retries={"total_max_attempts": attempts}) if attempts else None
            self._clients[key] = boto3.client(service, region_name=REGION, config=config)
        return self._clients[key]

    def outbox(self) -> list[OutboxMessage]:
        return read_outbox()

    # names and ARNs
    def _create_http_api(self, api: HttpApi) -> None:
        """Recorded in moto as deployed (routes, payload 2.0 proxy integrations, no authorizer) for the parity tests;
        the local stack serves it itself (dawra/local/http_api.py)."""
        v2 = self.client("apigatewayv2")
        api_id = v2.create_api(Name=api.name, ProtocolType="HTTP", Description=api.purpose)["ApiId"]
        for route in api.routes:
            integration = v2.create_integration(
                ApiId=api_id, IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0",
                IntegrationUri=self.arn("function", self.topology.function(route.function).name))
            v2.create_route(ApiId=api_id, RouteKey=f"{route.method} {route.path}", AuthorizationType="NONE",
                            Target=f"integrations/{integration['IntegrationId']}")
        v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)

    def arn(self, kind: str, name: str) -> str:
        service = {"table": "dynamodb", "queue": "sqs", "topic": "sns", "state_machine": "states",
                   "function": "lambda"}[kind]
        resource = {"table": f"table/{name}", "queue": name, "topic": name, "state_machine": f"stateMachine:{name}",
                    "function": f"function:{name}"}[kind]
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"

    def queue_url(self, queue_id: str) -> str:
        url: str = self.client("sqs").get_queue_url(QueueName=self.topology.queue(queue_id).name)["QueueUrl"]
        return url

    region = REGION

    def resolve_ref(self, kind: str, id: str, attr: str) -> str:
        return self.resolved[(kind, id, attr)]

    def resolve(self, value: Ref | str, suffix: str = "") -> str:
        """The local value of a Ref (a literal string stays as it is): the one resolver for environments and grants."""
        if isinstance(value, str):
            return value + suffix
        return self.resolved[(value.kind, value.id, value.attr)] + suffix

    def function_environment(self, function: Function) -> dict[str, str]:
        return {key: self.resolve(value) for key, value in function.environment.items()}

    def local_environment(self) -> dict[str, str]:
        """What the local stack adds to every function's environment (on AWS, the deployment's concern)."""
        return {**LOCAL_FUNCTION_ENV, **({E.JWKS_URL: self.jwks_url} if self.jwks_url else {})}

    @staticmethod
    def cognito_jwks() -> dict[str, Any]:
        """The public key set moto signs every user pool's tokens with: what its endpoint serves as the JWKS."""
        from moto.utilities.utils import load_resource

        jwks: dict[str, Any] = load_resource("cognitoidp/resources/jwks-public.json")
        return jwks

    partition, account = "aws", ACCOUNT  # with `region` (above): what render_resource needs of this side

    def ref(self, ref: Ref, suffix: str = "") -> str:
        return self.resolve(ref, suffix)

    def domain_of(self, email: str) -> str:
        return email.split("@", 1)[1]

    def resolve_resource(self, resource: Resource) -> str:
        return render_resource(resource, self)

    def policy_document(self, function: Function) -> dict[str, Any]:
        """The function's grants as an IAM policy: one statement per grant, in the topology's order."""
        return self.grants_document(function.grants)

    def grants_document(self, grants: tuple[Grant, ...]) -> dict[str, Any]:
        """Grants (a function's, a schedule group role's) as an IAM policy, one statement per grant, in order."""
        return {"Version": "2012-10-17", "Statement": [
            {"Effect": grant.effect, "Action": list(grant.actions),
             "Resource": [self.resolve_resource(resource) for resource in grant.resources]}
            for grant in grants]}

    def _role(self, name: str, service: str) -> str:
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": f"{service}.amazonaws.com"}}]}
        role = self.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        arn: str = role["Arn"]
        return arn

    # resources
    def _create_resources(self) -> None:
        topo = self.topology
        ddb, sqs, sns = self.client("dynamodb"), self.client("sqs"), self.client("sns")
        for table in topo.tables:
            attributes = {table.keys.partition_key, *(filter(None, [table.keys.sort_key]))}
            for index in table.indexes:
                attributes |= {index.partition_key, *(filter(None, [index.sort_key]))}
            kwargs: dict[str, Any] = {
                "TableName": table.name,
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": _key_schema(table.keys.partition_key, table.keys.sort_key),
                "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in sorted(attributes)],
            }
            if table.indexes:
                kwargs["GlobalSecondaryIndexes"] = [
                    {"IndexName": index.name, "KeySchema": _key_schema(index.partition_key, index.sort_key),
                     "Projection": {"ProjectionType": index.projection}} for index in table.indexes]
            if table.stream:
                kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
            described = ddb.create_table(**kwargs)["TableDescription"]
            if table.ttl_attribute:
                ddb.update_time_to_live(TableName=table.name, TimeToLiveSpecification={
                    "Enabled": True, "AttributeName": table.ttl_attribute})
            self.resolved[("table", table.id, "name")] = table.name
            self.resolved[("table", table.id, "arn")] = described["TableArn"]
            if table.stream:
                self.resolved[("table", table.id, "stream_arn")] = described["LatestStreamArn"]

        for bucket in topo.buckets:
            self.client("s3").create_bucket(Bucket=bucket.name)  # us-east-1: no location constraint
            self.resolved[("bucket", bucket.id, "name")] = bucket.name
            self.resolved[("bucket", bucket.id, "arn")] = f"arn:aws:s3:::{bucket.name}"

        for queue in sorted(topo.queues, key=lambda q: q.dead_letter_queue is not None):
            queue_attributes = {"VisibilityTimeout": str(queue.visibility_timeout_s),
                                "MessageRetentionPeriod": str(queue.retention_s)}
            if queue.dead_letter_queue:
                queue_attributes["RedrivePolicy"] = json.dumps({
                    "deadLetterTargetArn": self.resolved[("queue", queue.dead_letter_queue, "arn")],
                    "maxReceiveCount": queue.max_receive_count})
            url = sqs.create_queue(QueueName=queue.name, Attributes=queue_attributes)["QueueUrl"]
            self.resolved[("queue", queue.id, "url")] = url
            self.resolved[("queue", queue.id, "name")] = queue.name
            self.resolved[("queue", queue.id, "arn")] = self.arn("queue", queue.name)

        for bucket in topo.buckets:  # after the queues their notifications go to
            if bucket.notify_queue:
                self._notify_queue(bucket, bucket.notify_queue)

        for topic in topo.topics:
            self.resolved[("topic", topic.id, "arn")] = sns.create_topic(Name=topic.name)["TopicArn"]
            self.resolved[("topic", topic.id, "name")] = topic.name

        for group in topo.schedule_groups:  # after the queues their schedules send to
            self._create_schedule_group(group)

        for secret in topo.secrets:
            value = secrets.token_hex(32)
            arn = self.client("secretsmanager").create_secret(Name=secret.name, SecretString=value)["ARN"]
            self.carrier_secrets[secret.id] = value
            self.resolved[("secret", secret.id, "name")] = secret.name
            self.resolved[("secret", secret.id, "arn")] = arn

        for parameter in topo.parameters:
            self.resolved[("parameter", parameter.id, "value")] = self.parameter_values.get(parameter.id,
                                                                                      parameter.local_value)
        sender = self.resolved[("parameter", "sender-email", "value")]
        self.client("ses").verify_email_identity(EmailAddress=sender)
        for configuration_set in topo.configuration_sets:
            self.client("ses").create_configuration_set(ConfigurationSet={"Name": configuration_set.name})
            self.resolved[("configuration_set", configuration_set.id, "name")] = configuration_set.name

        for machine in topo.state_machines:  # ARNs are known before creation; functions may reference them
            self.resolved[("state_machine", machine.id, "arn")] = self.arn("state_machine", machine.name)
            self.resolved[("state_machine", machine.id, "name")] = machine.name

        for pool in topo.user_pools:
            self._create_user_pool(pool)

        for api in topo.http_apis:  # before any environment: the customer's names the return label's HTTP API
            self.resolved[("http_api", api.id, "url")] = self.http_api_urls.get(api.id, "")

        process_env: dict[str, str] = {}
        for function in topo.functions:
            environment = {**self.function_environment(function), **self.local_environment()}
            for key, value in environment.items():
                if process_env.get(key, value) != value:
                    raise RuntimeError(f"functions disagree on {key}; in-process handlers share one environment")
                process_env[key] = value
            role_arn = self._role(ROLE_PREFIX + function.id, "lambda")
            if function.grants:
                self.client("iam").put_role_policy(RoleName=ROLE_PREFIX + function.id, PolicyName=GRANTS_POLICY,
                                                   PolicyDocument=json.dumps(self.policy_document(function)))
            self.client("lambda").create_function(
                FunctionName=function.name, Runtime="python3.11", Role=role_arn, Handler=function.handler,
                Code={"ZipFile": _placeholder_zip()}, Timeout=function.timeout_s, MemorySize=function.memory_mb,
                Environment={"Variables": environment}, Architectures=["arm64"])
            self.resolved[("function", function.id, "arn")] = self.arn("function", function.name)
        os.environ.update(process_env)
        for source in topo.topic_event_sources:
            self._subscribe(source)
        for api in topo.http_apis:
            self._create_http_api(api)

        for machine in topo.state_machines:
            definition = machine.definition_path.read_text()
            for placeholder, function_id in machine.substitutions.items():
                definition = definition.replace("${" + placeholder + "}", self.resolved[("function", function_id, "arn")])
            for placeholder, table_id in machine.table_substitutions.items():
                definition = definition.replace("${" + placeholder + "}", self.resolved[("table", table_id, "name")])
            self.client("stepfunctions").create_state_machine(
                name=machine.name, definition=definition, roleArn=self._role(ROLE_PREFIX + machine.id, "states"),
                type="STANDARD")


    def _subscribe(self, source: TopicEventSource) -> None:
        """A function subscribed to a topic, as the CDK app subscribes it: SNS may invoke it (a Lambda permission for
        this topic only) and the subscription's redrive policy names the dead-letter queue. moto's SNS then hands each
        message published to the topic to InProcessLambda.deliver_sns, which also sends what the function failed on
        to that queue (the function's DeadLetterConfig on AWS). SNS's own delivery failures (no permission, no
        function) cannot happen here."""
        function = self.topology.function(source.function)
        topic_arn = self.resolved[("topic", source.topic, "arn")]
        function_arn = self.resolved[("function", function.id, "arn")]
        self.client("lambda").add_permission(
            FunctionName=function.name, StatementId=f"sns-{source.topic}", Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com", SourceArn=topic_arn)
        redrive = {"deadLetterTargetArn": self.resolved[("queue", source.dead_letter_queue, "arn")]}
        subscription_arn: str = self.client("sns").subscribe(
            TopicArn=topic_arn, Protocol="lambda", Endpoint=function_arn, ReturnSubscriptionArn=True,
            Attributes={"RedrivePolicy": json.dumps(redrive)})["SubscriptionArn"]
        self.lambdas.subscriptions[function.name] = SnsSubscription(
            topic_arn, subscription_arn, function_arn, self.resolved[("queue", source.dead_letter_queue, "url")])

    def _notify_queue(self, bucket: Bucket, queue_id: str) -> None:
        """S3 event notifications to SQS, as the CDK app configures them: every object created in the bucket is
        notified to its queue. moto delivers them (its S3 sends the event to its SQS, in this process, on PutObject),
        and the queue's poller runs the function as the event source mapping would."""
        self.client("s3").put_bucket_notification_configuration(Bucket=bucket.name, NotificationConfiguration={
            "QueueConfigurations": [{"Id": f"{bucket.id}-object-created", "Events": ["s3:ObjectCreated:*"],
                                     "QueueArn": self.resolved[("queue", queue_id, "arn")]}]})

    def _create_schedule_group(self, group: ScheduleGroup) -> None:
        """The group in moto's EventBridge Scheduler, and the role its schedules run with: trusted by the scheduler
        acting for this group of this account, its inline policy the group's grants (sending to its queue). The
        schedule poller (dawra/local/pollers.py) fires due schedules and checks that policy, as the scheduler
        assuming the role would; moto itself neither fires schedules nor enforces IAM."""
        arn: str = self.client("scheduler").create_schedule_group(Name=group.name)["ScheduleGroupArn"]
        role_name = SCHEDULER_ROLE_PREFIX + group.id
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "scheduler.amazonaws.com"},
             "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnEquals": {"aws:SourceArn": arn}}}]}
        iam = self.client("iam")
        role_arn: str = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        self.resolved[("schedule_group", group.id, "name")] = group.name
        self.resolved[("schedule_group", group.id, "arn")] = arn
        self.resolved[("schedule_group", group.id, "role_arn")] = role_arn
        iam.put_role_policy(RoleName=role_name, PolicyName=GRANTS_POLICY,
                            PolicyDocument=json.dumps(self.grants_document(group.grants)))

    def _create_user_pool(self, pool: UserPool) -> None:
        """The pool as the CDK app renders it, as far as moto models it: sign-in by username (AWS also takes the
        email alias, which moto does not resolve), admin-created users only, the password policy, the groups, and
        one app client without a secret whose read attributes decide what the ID token carries."""
        idp = self.client("cognito-idp")
        created = idp.create_user_pool(
            PoolName=pool.name, AliasAttributes=["email"], AutoVerifiedAttributes=["email"],
            UsernameConfiguration={"CaseSensitive": False},
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            Schema=[{"Name": name, "AttributeDataType": "String", "Mutable": True,
                     "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "32"}}
                    for name in pool.custom_attributes],
            Policies={"PasswordPolicy": {"MinimumLength": pool.min_password_length, "RequireUppercase": True,
                                         "RequireLowercase": True, "RequireNumbers": True, "RequireSymbols": True}},
        )["UserPool"]
        pool_id = created["Id"]
        for precedence, group in enumerate(pool.groups):
            idp.create_group(UserPoolId=pool_id, GroupName=group.name, Description=group.description,
                             Precedence=precedence)
        client = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName=pool.client_name, GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            ReadAttributes=list(pool.client_read_attributes), PreventUserExistenceErrors="ENABLED",
        )["UserPoolClient"]
        self.resolved[("user_pool", pool.id, "id")] = pool_id
        self.resolved[("user_pool", pool.id, "name")] = pool.name
        self.resolved[("user_pool", pool.id, "arn")] = created["Arn"]
        self.resolved[("user_pool", pool.id, "client_id")] = client["ClientId"]
        if self.aws_endpoint and pool.id == self.topology.user_pools[0].id:
            self.jwks_url = f"{self.aws_endpoint}/{pool_id}/.well-known/jwks.json"


@dataclass(frozen=True)
class OutboxMessage:
    channel: str
    to: str
    subject: str
    body: str


def read_outbox() -> list[OutboxMessage]:
    """Emails SES accepted and SMS SNS accepted, in send order (moto keeps them in two backends)."""
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    sent = [(("email", m.id), OutboxMessage("email", ", ".join(m.destinations.get("ToAddresses", [])),
                                            m.subject, m.body))
            for m in ses_backends[ACCOUNT][REGION].sent_messages]
    sent += [(("sms", message_id), OutboxMessage("sms", phone, "", text))
             for message_id, (phone, text) in sns_backends[ACCOUNT][REGION].sms_messages.copy().items()]
    return [message for _, message in sorted(sent, key=lambda pair: _send_order.get(pair[0], float("inf")))]


def _key_schema(partition_key: str, sort_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition_key, "KeyType": "HASH"}]
    if sort_key:
        schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
    return schema


def _placeholder_zip() -> bytes:
    """moto wants code; the handler really runs from the repository (InProcessLambda), not from this zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Run in-process by dawra.local from the repository's functions/ folder.")
    return buffer.getvalue()
