"""Fault injection for the embedded cloud: AWS answering "slow down" or failing after it did the work.

A :class:`FaultPlan` gives, per service ("dynamodb", "sqs", "stepfunctions", "dynamodbstreams") or per
"service:Operation" (the most specific key wins), two rates:

- ``throttle``: the call is NOT applied and the client gets a throttling error (``ThrottlingException``; for
  DynamoDB ``TransactWriteItems``, half the time, a ``TransactionCanceledException`` with one
  ``ThrottlingError`` or ``TransactionConflict`` reason, which botocore does not retry: the application must);
- ``ambiguous``: the call IS applied by moto, then the client gets a 500 ``InternalServerError`` instead of
  the response, so it cannot know whether its write happened.

Faults only hit calls made in scope (:func:`fault_scope`): inside a Lambda handler run by the embedded cloud,
by the local gateway's API Gateway -> SQS integration, and by the event source pollers. The test driver's or
demo's own calls and resource creation are never faulted. Draws come from one ``random.Random(seed)``, so a
run is repeatable as far as the threads' interleaving is. Local only: nothing here exists on AWS.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse
    from moto.core.botocore_stubber import BotocoreStubber

# plan service name -> (botocore service name, event-name prefix in "before-send.<prefix>.<Operation>")
SERVICES = {
    "dynamodb": ("dynamodb", "dynamodb"),
    "sqs": ("sqs", "sqs"),
    "stepfunctions": ("stepfunctions", "sfn"),
    "dynamodbstreams": ("dynamodbstreams", "dynamodb-streams"),
}
_BY_PREFIX = {prefix: service for service, (_, prefix) in SERVICES.items()}
KINDS = ("throttle", "ambiguous")
T = TypeVar("T")


class FaultPlanError(ValueError):
    """A fault plan that cannot be used (unknown service or operation, a rate outside [0, 1], bad JSON)."""


@dataclass(frozen=True)
class FaultRates:
    throttle: float = 0.0
    ambiguous: float = 0.0

    def __post_init__(self) -> None:
        for kind in KINDS:
            value = getattr(self, kind)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise FaultPlanError(f"fault rate {kind}={value!r} must be a number in [0, 1]")
        if self.throttle + self.ambiguous > 1:
            raise FaultPlanError(f"throttle + ambiguous = {self.throttle + self.ambiguous} exceeds 1")


class FaultPlan:
    """Rates per "service" or "service:Operation", and the seeded random source that draws the faults."""

    def __init__(self, rules: Mapping[str, FaultRates | Mapping[str, float]], seed: int = 0):
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise FaultPlanError(f"seed must be an integer, not {seed!r}")
        self.seed = seed
        self.rules: dict[str, FaultRates] = {}
        for key, given in rules.items():
            _check_key(key)
            if isinstance(given, Mapping):
                unknown = set(given) - set(KINDS)
                if unknown:
                    raise FaultPlanError(f"{key}: unknown fault kind(s) {sorted(unknown)}; expected {KINDS}")
                rates = FaultRates(**given)
            elif isinstance(given, FaultRates):
                rates = given
            else:
                raise FaultPlanError(f"{key}: expected an object like {{\"throttle\": 0.1}}, not {given!r}")
            self.rules[key] = rates
        self._random = random.Random(seed)  # noqa: S311 - seeded so a run's faults repeat; not security
        self._lock = threading.Lock()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultPlan:
        if not isinstance(data, Mapping):
            raise FaultPlanError("a fault plan is a JSON object")
        rules = {key: value for key, value in data.items() if key != "seed"}
        return cls(rules, seed=data.get("seed", 0))

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        """JSON text, e.g. '{"dynamodb": {"throttle": 0.2, "ambiguous": 0.05}, "seed": 7}'."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise FaultPlanError(f"fault plan is not valid JSON: {error}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, argument: str) -> FaultPlan:
        """JSON text, or @path/to/plan.json (what `python -m dawra.local up --faults` accepts)."""
        return cls.parse(Path(argument[1:]).read_text() if argument.startswith("@") else argument)

    def rates_for(self, service: str, operation: str) -> FaultRates:
        return self.rules.get(f"{service}:{operation}") or self.rules.get(service) or FaultRates()

    def draw(self, service: str, operation: str) -> str | None:
        """"throttle", "ambiguous" or None for one call."""
        rates = self.rates_for(service, operation)
        if not rates.throttle and not rates.ambiguous:
            return None
        with self._lock:
            roll = self._random.random()
        if roll < rates.throttle:
            return "throttle"
        return "ambiguous" if roll < rates.throttle + rates.ambiguous else None

    def choice(self, options: Sequence[T]) -> T:
        with self._lock:
            return self._random.choice(options)

    def describe(self) -> str:
        rules = "; ".join(f"{key} throttle {r.throttle:.0%} ambiguous {r.ambiguous:.0%}"
                          for key, r in sorted(self.rules.items()))
        return f"{rules or 'no faults'} (seed {self.seed})"


def _check_key(key: str) -> None:
    service, colon, operation = key.partition(":")
    if service not in SERVICES:
        raise FaultPlanError(f"unknown service {service!r} in fault plan key {key!r}; "
                             f"expected one of {sorted(SERVICES)}")
    if colon and operation not in _operations(service):
        raise FaultPlanError(f"{service} has no operation {operation!r} (fault plan key {key!r})")


def _operations(service: str) -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_service_model(SERVICES[service][0]).operation_names)


# --- scope --------------------------------------------------------------------------------------------------

_in_scope: ContextVar[bool] = ContextVar("dawra_fault_scope", default=False)


@contextmanager
def fault_scope() -> Iterator[None]:
    """This thread's calls inside the block may be faulted (a context variable: new threads start outside)."""
    token = _in_scope.set(True)
    try:
        yield
    finally:
        _in_scope.reset(token)


# --- the switch the embedded cloud exposes as `cloud.faults` ------------------------------------------------


class Faults:
    """The plan in force (or None), an on/off switch for it, and counts of what was injected."""

    def __init__(self, plan: FaultPlan | None = None):
        self._plan = plan
        self._enabled = True
        self._injected: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()

    @property
    def plan(self) -> FaultPlan | None:
        return self._plan

    def set_plan(self, plan: FaultPlan | None) -> None:
        self._plan = plan

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = bool(value)

    def on(self) -> None:
        self.enabled = True

    def off(self) -> None:
        self.enabled = False

    @property
    def active(self) -> bool:
        return self._enabled and self._plan is not None

    @property
    def injected(self) -> Counter[tuple[str, str, str]]:
        """A copy: (service, operation, kind) -> count; kind is throttle, ambiguous or cancelled."""
        with self._lock:
            return Counter(self._injected)

    def summary(self) -> str:
        injected = self.injected
        state = "on" if self.active else "off"
        lines = [f"faults {state}: {self._plan.describe() if self._plan else 'no plan'}",
                 f"injected {sum(injected.values())}"]
        lines += [f"  {service}:{operation} {kind} {count}" for (service, operation, kind), count
                  in sorted(injected.items())]
        return "\n".join(lines)

    def _draw(self, service: str, operation: str) -> tuple[str | None, FaultPlan | None]:
        plan = self._plan
        if plan is None or not self._enabled:
            return None, None
        kind = plan.draw(service, operation)
        if kind == "throttle" and (service, operation) == ("dynamodb", "TransactWriteItems"):
            kind = plan.choice(["throttle", "cancelled"])
        if kind is not None:
            with self._lock:
                self._injected[(service, operation, kind)] += 1
        return kind, plan


# --- the hook in moto's request path ------------------------------------------------------------------------

_active: Faults | None = None
_installed = False


def activate(faults: Faults | None) -> None:
    global _active
    _active = faults


def install() -> None:
    """Wrap moto's BotocoreStubber (every in-process botocore request passes through it) once per process."""
    global _installed
    if _installed:
        return
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def faulty_call(self: BotocoreStubber, event_name: str, request: AWSPreparedRequest,
                    **kwargs: Any) -> AWSResponse | None:
        faults = _active
        if faults is None or not self.enabled or not _in_scope.get():
            return original(self, event_name, request, **kwargs)
        _, prefix, operation = [*event_name.split(".", 2), "", ""][:3]
        service = _BY_PREFIX.get(prefix)
        kind, plan = faults._draw(service, operation) if service else (None, None)
        if kind is None or service is None or plan is None:  # a drawn fault always comes with both
            return original(self, event_name, request, **kwargs)
        if kind == "ambiguous":
            original(self, event_name, request, **kwargs)  # applied; the answer is lost
            return _error(request, service, 500, "InternalServerError", "Internal server error")
        if kind == "cancelled":
            return _transaction_cancelled(request, plan)
        return _error(request, service, 400, "ThrottlingException", "Rate exceeded")

    BotocoreStubber.__call__ = faulty_call  # type: ignore[method-assign]  # moto's stubber, replaced at run time
    _installed = True


def _error(request: AWSPreparedRequest, service: str, status: int, code: str, message: str,
           **extra: Any) -> AWSResponse:
    """An error in the JSON protocol all four services speak here (botocore reads the code after the '#')."""
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "dawra-local-fault"}
    if service == "sqs":  # SQS speaks JSON but keeps its Query error codes in this header
        headers["x-amzn-query-error"] = f"{code};{'Receiver' if status >= 500 else 'Sender'}"
    prefix = "com.amazonaws.dynamodb.v20120810#" if service.startswith("dynamodb") else ""
    body = json.dumps({"__type": prefix + code, "message": message, **extra})
    return AWSResponse(request.url, status, headers, MockRawResponse(body))


def _transaction_cancelled(request: AWSPreparedRequest, plan: FaultPlan) -> AWSResponse:
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    items = len(json.loads(body or "{}").get("TransactItems", [])) or 1
    culprit, code = plan.choice(range(items)), plan.choice(["ThrottlingError", "TransactionConflict"])
    message = {"ThrottlingError": "Throughput exceeds the current capacity of your table or index.",
               "TransactionConflict": "Transaction is ongoing for the item"}[code]
    reasons = [{"Code": code, "Message": message} if i == culprit else {"Code": "None"} for i in range(items)]
    summary = ", ".join(reason["Code"] for reason in reasons)
    message = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{summary}]"
    return _error(request, "dynamodb", 400, "TransactionCanceledException", message,
                  CancellationReasons=reasons)
