"""Deploy-time settings the CDK app reads from CDK context (``cdk.json`` or ``-c key=value``).

CloudFormation parameters (sender email, SMS sender id) are *deploy* settings a merchant changes without touching code;
these context values change the *shape* of what is synthesised, so they are read at synth time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from constructs import Node

from dawra.topology import REPO_ROOT

LAYER_DIR_KEY = "dawra:layerDir"
DELETION_PROTECTION_KEY = "dawra:deletionProtection"
OPS_EMAIL_KEY = "dawra:opsAlertEmail"

DEFAULT_LAYER_DIR = "infra/build/layer"


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class DeployConfig:
    layer_dir: Path
    deletion_protection: bool
    ops_alert_email: str | None

    @classmethod
    def from_context(cls, node: Node) -> DeployConfig:
        layer_dir = Path(node.try_get_context(LAYER_DIR_KEY) or DEFAULT_LAYER_DIR)
        if not layer_dir.is_absolute():
            layer_dir = REPO_ROOT / layer_dir
        if not (layer_dir / "python").is_dir():
            raise FileNotFoundError(
                f"Lambda layer not built at {layer_dir} (expected a python/ folder inside). "
                "Run `make synth`, which builds it, or pass -c dawra:layerDir=<dir>."
            )
        protection = node.try_get_context(DELETION_PROTECTION_KEY)
        return cls(
            layer_dir=layer_dir,
            deletion_protection=True if protection is None else _truthy(protection),
            ops_alert_email=node.try_get_context(OPS_EMAIL_KEY) or None,
        )
