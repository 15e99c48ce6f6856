"""The functions' Powertools Tracer, without the X-Ray SDK where nothing is traced.

Powertools' Tracer imports the X-Ray SDK's recorder whenever it is created, even with tracing disabled, and that
recorder builds a sampling client of its own at import (100-180 ms of every cold start). Where tracing is off
(POWERTOOLS_TRACE_DISABLED, or outside Lambda: the embedded cloud, tests, the bench) the Tracer gets a provider that
records nothing instead, through Powertools' own provider interface: the same Tracer, the same decorators in the same
order. Where tracing is on (a deployed function, Tracing.ACTIVE) it is Powertools' default X-Ray provider, unchanged.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import strtobool
from aws_lambda_powertools.tracing import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


def tracing_disabled() -> bool:
    """Powertools' own rule: disabled by POWERTOOLS_TRACE_DISABLED, outside Lambda, or under SAM or Chalice local."""
    if strtobool(os.getenv(constants.TRACER_DISABLED_ENV, "false")):
        return True
    in_lambda = bool(os.getenv(constants.LAMBDA_TASK_ROOT_ENV))
    return not in_lambda or bool(os.getenv(constants.SAM_LOCAL_ENV) or os.getenv(constants.CHALICE_LOCAL_ENV))


class _Untraced(BaseSegment):
    """A subsegment that records nothing."""

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class Untraced(BaseProvider):
    """A tracing provider that records nothing and imports nothing: the Tracer's provider where tracing is off."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _Untraced()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _Untraced()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def function_tracer() -> Tracer:
    """The function's Tracer: X-Ray where tracing is on, a provider that records nothing where it is off."""
    if tracing_disabled():
        return Tracer(disabled=True, provider=Untraced())
    return Tracer()
