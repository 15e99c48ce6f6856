"""cdk-nag (v3) acknowledgments: every suppressed AwsSolutions finding goes through :func:`acknowledge`, which
insists on a reason and keeps a list the tests (and the deploy doc) read."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

MIN_REASON_LENGTH = 40


def acknowledge(scope: IConstruct, rule_id: str, reason: str, *, finding: str | None = None) -> None:
    """Suppress ``rule_id`` (or one finding of it, e.g. ``Resource::*``) on ``scope`` and everything under it."""
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"{rule_id} on {scope.node.path}: a suppression needs a real reason, got {reason!r}")
    full_id = f"{rule_id}[{finding}]" if finding else rule_id
    Validations.of(scope).acknowledge(Acknowledgment(id=full_id, reason=reason))
