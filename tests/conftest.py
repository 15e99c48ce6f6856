"""Shared fixtures. One embedded cloud at a time (moto's state is process-global): the local stack lives for one
test module, so modules that start their own cloud (tests/bench) can run in any order; tests use unique ids."""

from __future__ import annotations

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
