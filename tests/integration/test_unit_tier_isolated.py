"""The unit tier needs no AWS library: it passes with boto3, botocore and moto made unimportable."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFUSE = """import sys
class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"boto3", "botocore", "moto"}:
            raise ImportError(name + " refused in the unit tier")
sys.meta_path.insert(0, _Refuse())
"""


def test_the_unit_tier_runs_with_aws_libraries_refused(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(REFUSE)
    probe = subprocess.run([sys.executable, "-c", "import boto3"], env={"PYTHONPATH": str(tmp_path)},
                           capture_output=True, text=True, timeout=60, check=False)
    assert "refused in the unit tier" in probe.stderr  # the refusal itself works
    run = subprocess.run([sys.executable, "-m", "pytest", "tests/unit", "-q", "-p", "no:cacheprovider"],
                         cwd=ROOT, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and " failed" not in run.stdout
