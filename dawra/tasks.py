"""Parsing state machine task payloads: a malformed payload is a typed error, not a stack trace."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from dawra.errors import InvalidTaskInput

T = TypeVar("T")


def parse_task(event: dict, model: type[T] | TypeAdapter) -> T:
    adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
    try:
        return adapter.validate_python(event)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise InvalidTaskInput(f"bad task payload: {problems}") from None


__all__ = ["BaseModel", "parse_task"]
