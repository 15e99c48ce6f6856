"""Synthesise the CDK app once per test session, offline and without Docker.

The Lambda layer is pointed (CDK context ``dawra:layerDir``) at a tiny directory made here, so the tests never run
the real pip-style layer build; everything else is the app exactly as ``make synth`` builds it, cdk.json context
included.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# jsii's Node-version banner is noise in test output (the Makefile exports the same).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@dataclass
class Synth:
    app: object
    stack: object
    nag: object
    outdir: Path
    template: dict

    @property
    def resources(self) -> dict:
        return self.template["Resources"]

    def of_type(self, cfn_type: str) -> dict[str, dict]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == cfn_type}

    def one(self, cfn_type: str, **props) -> tuple[str, dict]:
        """The one resource of ``cfn_type`` whose Properties contain ``props``."""
        found = [
            (lid, r)
            for lid, r in self.of_type(cfn_type).items()
            if all(r.get("Properties", {}).get(k) == v for k, v in props.items())
        ]
        assert len(found) == 1, f"expected one {cfn_type} with {props}, found {[lid for lid, _ in found]}"
        return found[0]


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Synth:
    from infra.app import STACK_NAME, build_app

    layer = tmp_path_factory.mktemp("layer")
    (layer / "python" / "dawra").mkdir(parents=True)
    (layer / "python" / "dawra" / "__init__.py").write_text("# test stand-in for the real layer\n")
    outdir = tmp_path_factory.mktemp("cdk.out")
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context["dawra:layerDir"] = str(layer)
    app, stack, nag = build_app(outdir=str(outdir), context=context)
    app.synth()
    template = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    return Synth(app=app, stack=stack, nag=nag, outdir=outdir, template=template)
