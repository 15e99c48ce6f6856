"""Shared fixtures. One embedded cloud at a time (moto's state is process-global): the local stack lives for one
test module, so modules that start their own cloud (tests/bench) can run in any order; tests use unique ids."""

from __future__ import annotations

import threading
import uuid
import warnings

import pytest

warnings.filterwarnings("ignore", message="No application metrics to publish")


@pytest.fixture(scope="module")
def local_stack():
    from stacks import seeded_stack

    yield from seeded_stack()


@pytest.fixture
def unique():
    return lambda prefix="t": f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def aws_calls(monkeypatch):
    """The AWS operations made on this thread (an in-process request through the gateway runs on it)."""
    from botocore.client import BaseClient

    calls: list[str] = []
    here = threading.get_ident()
    make_api_call = BaseClient._make_api_call

    def recorded(self, operation_name, api_params):
        if threading.get_ident() == here and operation_name != "Invoke":  # the gateway invoking the function
            calls.append(operation_name)
        return make_api_call(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    return calls
