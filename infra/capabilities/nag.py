"""Suppressed findings, each with its reason: cdk-nag (v3) acknowledgments (:func:`acknowledge`) and checkov skips
(:func:`skip_checkov`, the ``checkov: skip`` metadata checkov reads on a template resource). Both insist on a reason;
the tests read them back from the template, and docs/deploy.md lists them."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct

MIN_REASON_LENGTH = 40


def acknowledge(scope: IConstruct, rule_id: str, reason: str, *, finding: str | None = None) -> None:
    """Suppress ``rule_id`` (or one finding of it, e.g. ``Resource::*``) on ``scope`` and everything under it."""
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"{rule_id} on {scope.node.path}: a suppression needs a real reason, got {reason!r}")
    full_id = f"{rule_id}[{finding}]" if finding else rule_id
    Validations.of(scope).acknowledge(Acknowledgment(id=full_id, reason=reason))


def skip_checkov(resource: CfnResource, check_id: str, comment: str) -> None:
    """Skip checkov's ``check_id`` on this one template resource, with ``comment`` as the reason."""
    if len(comment.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"{check_id} on {resource.node.path}: a skip needs a real reason, got {comment!r}")
    skips = list((resource.get_metadata("checkov") or {}).get("skip", []))
    if any(skip["id"] == check_id for skip in skips):
        raise ValueError(f"{check_id} is skipped twice on {resource.node.path}")
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check_id, "comment": comment}]})
