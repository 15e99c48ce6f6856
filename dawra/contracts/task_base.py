"""What every task payload shares (the order lifecycle's, dawra.contracts.tasks; the return's,
dawra.contracts.returns; the jobs for later, dawra.contracts.jobs): the id types, the base model and the parser.

Apart from the task models, so that a module needing only these does not load every task's model: a cold start
builds the validator of each model its import defined (bench/cold_start.py counts them), and the notifier, the
customer site or the tracking consumer run no lifecycle task."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from dawra.domain.errors import InvalidTaskInput

T = TypeVar("T")

OrderId = Annotated[str, Field(pattern=r"^ord_[A-Za-z0-9]{8,64}$")]
ShipmentId = Annotated[str, Field(pattern=r"^shp_[A-Za-z0-9]{8,64}$")]


class Task(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


def parse_task(event: dict[str, Any], adapter: TypeAdapter[T]) -> T:
    """A malformed payload is a typed error (InvalidTaskInput), not a stack trace."""
    try:
        return adapter.validate_python(event)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise InvalidTaskInput(f"bad task payload: {problems}") from None
