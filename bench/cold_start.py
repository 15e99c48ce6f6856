"""Cold start of each function: a fresh interpreter importing the handler module (no network), against its floor.

Handler run: a fresh ``python -c`` with the function's environment (names resolved from the topology the way the
embedded cloud resolves them, fake credentials, POWERTOOLS_TRACE_DISABLED=true as in the local stack) imports the
handler module by path, as Lambda's runtime does, then creates the AWS clients its first request would (the
adapters create them lazily through dawra.adapters.aws, once per container): the same clients as the floor's.
Floor run: the same interpreter importing boto3 and creating only the clients the function's grants need (one
per IAM service its grants name).
Library floor run: the floor, plus what every Dawra function imports and builds at module level whatever its code:
pydantic's BaseModel and Powertools' Logger and Metrics, created (the handlers' decorators need them at import).
Its ratio to the floor (``library_floor_ratio``) is the best a function can reach while it keeps those libraries:
reported apart, not a target.
The handler run then builds every pydantic validator its import deferred (dawra's models are ``defer_build``: an
upper bound on what its first request builds, counted so that deferring is never mistaken for saving; reported apart
too, ``deferred_validators_median_s``).
Each run reports ``import_s`` (time.perf_counter inside the child, from the first line of the child's code to the end of
the import, the clients and those validators: the figure we compare) and the parent measures the whole process wall time (``process_s``, includes the
interpreter's own start-up, the same for both). Runs are interleaved (handler, floor, next function, ...).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dawra.topology import REPO_ROOT, TOPOLOGY, Function, Ref

ACCOUNT, REGION = "123456789012", "us-east-1"

# IAM service prefix of a granted action -> the boto3 client a function creates for it. The event source mappings'
# own grants (reading the queue or the stream) are not the function's grants: the function creates no client there.
SERVICE_CLIENTS = {"dynamodb": "dynamodb", "states": "stepfunctions", "sns": "sns", "ses": "ses",
                   "secretsmanager": "secretsmanager", "scheduler": "scheduler", "s3": "s3", "sqs": "sqs"}
# Granted, but called through another service's request: iam:PassRole is checked on the caller's CreateSchedule.
NO_CLIENT = {"iam"}


def _resolve(value: Ref | str) -> str:
    if isinstance(value, str):
        return value
    if value.kind == "table":
        return TOPOLOGY.table(value.id).name
    if value.kind == "state_machine":
        name = TOPOLOGY.state_machine(value.id).name
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}" if value.attr == "arn" else name
    if value.kind == "secret":
        return next(s.name for s in TOPOLOGY.secrets if s.id == value.id)
    if value.kind == "parameter":
        return next(p.local_value for p in TOPOLOGY.parameters if p.id == value.id)
    if value.kind == "queue":
        name = next(q.name for q in TOPOLOGY.queues if q.id == value.id)
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}" if value.attr == "arn" else name
    if value.kind == "schedule_group":
        name = TOPOLOGY.schedule_group(value.id).name
        return {"name": name, "arn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{name}",
                "role_arn": f"arn:aws:iam::{ACCOUNT}:role/{name}-scheduler"}[value.attr]
    if value.kind == "topic":
        name = next(t.name for t in TOPOLOGY.topics if t.id == value.id)
        return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}" if value.attr == "arn" else name
    if value.kind == "configuration_set":
        return next(c.name for c in TOPOLOGY.configuration_sets if c.id == value.id)
    if value.kind == "http_api":  # an HTTP API's endpoint: https://<api id>.execute-api.<region>.amazonaws.com
        return f"https://benchapi01.execute-api.{REGION}.amazonaws.com"
    if value.kind == "bucket":
        return f"bench-{value.id}-{ACCOUNT}" if value.attr == "name" else f"arn:aws:s3:::bench-{value.id}-{ACCOUNT}"
    if value.kind == "user_pool":  # Cognito pool ids look like <region>_<id>
        return {"id": f"{REGION}_BenchPool1", "client_id": "benchclient0000000000000001",
                "arn": f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_BenchPool1"}[value.attr]
    raise ValueError(value)


def environment(function: Function) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))}
    env.update({key: _resolve(value) for key, value in function.environment.items()})
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_LAMBDA_FUNCTION_NAME": function.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
                "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                "AWS_EC2_METADATA_DISABLED": "true", "PYTHONDONTWRITEBYTECODE": "0"})
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return env


def clients(function: Function) -> list[str]:
    return sorted({SERVICE_CLIENTS[service] for grant in function.grants for service in grant.services
                   if service not in NO_CLIENT})


def handler_code(function: Function) -> str:
    module_file, attr = function.handler.rsplit(".", 1)
    path = Path(function.code_path) / f"{module_file.replace('.', '/')}.py"
    return (
        "import time; _t0 = time.perf_counter()\n"
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(function.code_path)!r})\n"  # Lambda's task root: the folder's own modules
        f"spec = importlib.util.spec_from_file_location('handler_module', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec); sys.modules['handler_module'] = module\n"
        "spec.loader.exec_module(module)\n"
        f"assert callable(getattr(module, {attr!r}))\n"
        # and the clients its first request creates (dawra.adapters.aws creates them lazily, once per container)
        "from dawra.adapters import aws\n"
        + "".join(f"aws.client({service!r})\n" for service in clients(function))
        # and the validators pydantic deferred (defer_build): every dawra model the import defined, built now, so
        # deferring them is not counted as a saving. An upper bound: a first request builds only those it touches.
        + "_t1 = time.perf_counter()\n"
        "from pydantic import BaseModel\n"
        "for _module in [m for name, m in list(sys.modules.items()) if name.startswith('dawra')]:\n"
        "    for _model in [v for v in vars(_module).values() if isinstance(v, type) and issubclass(v, BaseModel)\n"
        "                   and v.__module__ == _module.__name__ and not v.__pydantic_complete__]:\n"
        "        _model.model_rebuild()\n"
        "print(time.perf_counter() - _t0, time.perf_counter() - _t1)\n"
    )


def floor_code(function: Function, then: str = "") -> str:
    creates = "; ".join(f"boto3.client({service!r})" for service in clients(function))
    return (
        "import time; _t0 = time.perf_counter()\n"
        "import boto3\n"
        f"{creates}\n"
        f"{then}"
        "print(time.perf_counter() - _t0)\n"
    )


def library_floor_code(function: Function) -> str:
    return floor_code(function, then="from pydantic import BaseModel\n"
                                     "from aws_lambda_powertools import Logger, Metrics\n"
                                     "Logger(); Metrics()\n")


def _run(code: str, env: dict[str, str]) -> tuple[float, float, float]:
    """(time inside the child, the part of it building deferred validators, whole process wall time)."""
    started = time.perf_counter()
    output = subprocess.run(  # noqa: S603 - this interpreter running code this module generates
        [sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    process_s = time.perf_counter() - started
    if output.returncode != 0:
        raise RuntimeError(f"cold start child failed: {output.stderr[-2000:]}")
    inside, *deferred = (float(x) for x in output.stdout.strip().splitlines()[-1].split())
    return inside, (deferred or [0.0])[0], process_s


def measure(runs: int = 10, functions: tuple[Function, ...] = TOPOLOGY.functions) -> dict[str, dict]:
    samples = {fn.name: {"import": [], "deferred": [], "process": [], "floor_import": [], "floor_process": [],
                         "library_import": []} for fn in functions}
    codes = {fn.name: (handler_code(fn), floor_code(fn), library_floor_code(fn), environment(fn))
             for fn in functions}
    for handler, floor, library, env in codes.values():  # one unmeasured run each: the OS file cache, .pyc files
        _run(handler, env)
        _run(floor, env)
        _run(library, env)
    for _ in range(runs):
        for name, (handler, floor, library, env) in codes.items():
            imported, deferred, process = _run(handler, env)
            floor_imported, _, floor_process = _run(floor, env)
            samples[name]["library_import"].append(_run(library, env)[0])
            samples[name]["import"].append(imported)
            samples[name]["deferred"].append(deferred)
            samples[name]["process"].append(process)
            samples[name]["floor_import"].append(floor_imported)
            samples[name]["floor_process"].append(floor_process)
    results = {}
    for fn in functions:
        s = samples[fn.name]
        median, floor = statistics.median(s["import"]), statistics.median(s["floor_import"])
        process, floor_process = statistics.median(s["process"]), statistics.median(s["floor_process"])
        results[fn.name] = {
            "median_s": round(median, 4), "floor_median_s": round(floor, 4), "ratio": round(median / floor, 2),
            "process_median_s": round(process, 4), "floor_process_median_s": round(floor_process, 4),
            "process_ratio": round(process / floor_process, 2), "runs": runs, "floor_clients": clients(fn),
            "deferred_validators_median_s": round(statistics.median(s["deferred"]), 4),
            "library_floor_median_s": round(statistics.median(s["library_import"]), 4),
            "library_floor_ratio": round(statistics.median(s["library_import"]) / floor, 2),
            "handler": f"{fn.code}/{fn.handler}",
        }
    return results


if __name__ == "__main__":
    print(json.dumps(measure(runs=int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=1))
