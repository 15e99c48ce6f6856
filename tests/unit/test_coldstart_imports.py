"""What a cold start does not pay for (decision 101): the X-Ray SDK where tracing is off, Jinja2 and Babel where
nothing is rendered, the other kind of entry point's Powertools utility, and pydantic validators nobody has used yet.
Imports are checked in a fresh interpreter: this test process has imported everything already."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dawra.tracing import Untraced, function_tracer, tracing_disabled

ROOT = Path(__file__).resolve().parents[2]


def imported_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code`."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("POWERTOOLS_", "LAMBDA_", "AWS_SAM", "AWS_CHALICE"))}
    out = subprocess.run(  # noqa: S603 - this interpreter running the code above
        [sys.executable, "-c", script], cwd=ROOT, env={**base, **(env or {})}, capture_output=True, text=True,
        check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_an_untraced_function_never_imports_the_xray_sdk_recorder():
    code = ("from dawra.tracing import function_tracer\n"
            "tracer = function_tracer()\n"
            "@tracer.capture_lambda_handler\n"
            "def handler(event, context):\n"
            "    return {'ok': True}\n"
            "assert handler({}, None) == {'ok': True}\n")
    loaded = imported_after(code, {"POWERTOOLS_TRACE_DISABLED": "true", "LAMBDA_TASK_ROOT": "/var/task"})
    assert "aws_xray_sdk.core" not in loaded
    assert "aws_xray_sdk.core" not in imported_after(code)  # outside Lambda, as Powertools decides it


def test_a_traced_function_gets_powertools_xray_provider():
    code = ("from dawra.tracing import function_tracer\n"
            "tracer = function_tracer()\n"
            "assert not tracer.disabled and 'aws_xray_sdk' in type(tracer.provider).__module__, tracer.provider\n")
    assert "aws_xray_sdk.core" in imported_after(code, {"LAMBDA_TASK_ROOT": "/var/task",
                                                        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"})


def test_tracing_is_off_where_powertools_turns_it_off(monkeypatch):
    for name in ("POWERTOOLS_TRACE_DISABLED", "LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    assert tracing_disabled()  # outside Lambda
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    assert not tracing_disabled()
    monkeypatch.setenv("AWS_SAM_LOCAL", "true")
    assert tracing_disabled()
    monkeypatch.delenv("AWS_SAM_LOCAL")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    assert tracing_disabled()


def test_the_untraced_tracer_keeps_the_decorators_behaviour(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    tracer = function_tracer()
    assert isinstance(tracer.provider, Untraced) and tracer.disabled

    @tracer.capture_method(capture_response=False)
    def double(x: int) -> int:
        return 2 * x

    @tracer.capture_lambda_handler
    def handler(event, context):
        if event.get("fail"):
            raise ValueError("refused")
        return {"twice": double(event["n"])}

    assert handler({"n": 4}, None) == {"twice": 8}
    with pytest.raises(ValueError, match="refused"):
        handler({"fail": True}, None)


@pytest.mark.parametrize("handler", sorted((ROOT / "functions").rglob("*.py")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_handler_gets_its_tracer_from_function_tracer(handler):
    text = handler.read_text()
    assert "Tracer(" not in text
    if "tracer" in text:
        assert "tracer = function_tracer()" in text


def test_rendering_imports_jinja2_and_babel_only_to_render():
    loaded = imported_after("import dawra.rendering")
    assert not {"jinja2", "babel", "babel.dates"} & loaded


def test_http_and_stream_entry_points_do_not_import_each_others_utility():
    assert "aws_lambda_powertools.utilities.batch" not in imported_after("import dawra.entrypoints")
    assert "aws_lambda_powertools.event_handler" not in imported_after("import dawra.streams")


def _root_models(path: Path) -> list[ast.ClassDef]:
    """The classes a module derives from pydantic's BaseModel or RootModel directly (the others inherit a config)."""
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)
            and any(ast.unparse(base).split("[")[0] in ("BaseModel", "RootModel") for base in node.bases)]


def _defers(model: ast.ClassDef) -> bool:
    for statement in model.body:
        if (isinstance(statement, ast.Assign) and any(getattr(t, "id", "") == "model_config" for t in statement.targets)
                and isinstance(statement.value, ast.Call)):
            return any(k.arg == "defer_build" and ast.unparse(k.value) == "True" for k in statement.value.keywords)
    return False


def test_every_dawra_model_defers_its_validator_to_first_use():
    """Validators are built where a model is first used (bench/cold_start.py counts them all the same). Read from
    the source, not imported: the adapters' modules import boto3, which the unit tier refuses."""
    deployed = [path for path in sorted((ROOT / "dawra").rglob("*.py"))
                if not {"local", "topology"} & set(path.relative_to(ROOT / "dawra").parts)]
    roots = [(path, model) for path in deployed for model in _root_models(path)]
    assert len(roots) > 150  # the scan finds them
    eager = [f"{path.relative_to(ROOT)}:{model.name}" for path, model in roots if not _defers(model)]
    assert not eager
