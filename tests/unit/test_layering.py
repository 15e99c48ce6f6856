"""The rule of the house: the domain and the use cases never import an AWS library; handlers stay thin."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AWS_LIBRARIES = {"boto3", "botocore", "moto", "aws_lambda_powertools"}
PURE = ["dawra/domain", "dawra/app", "dawra/ports.py", "dawra/contracts", "dawra/rendering.py"]


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules(*places: str) -> list[Path]:
    found = []
    for place in places:
        path = ROOT / place
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


@pytest.mark.parametrize("module", modules(*PURE), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_modules_import_no_aws_library(module):
    assert not imported_roots(module) & AWS_LIBRARIES


@pytest.mark.parametrize("module", modules("dawra/domain"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_domain_depends_on_nothing_but_itself(module):
    dawra_imports = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dawra."):
            dawra_imports.add(node.module)
    assert all(name.startswith("dawra.domain") for name in dawra_imports), dawra_imports


@pytest.mark.parametrize("handler", sorted((ROOT / "functions").rglob("*.py")), ids=lambda p: p.name)
def test_handlers_are_thin_and_choose_no_provider(handler):
    text = handler.read_text()
    tree = ast.parse(text)
    body = tree.body[1:] if isinstance(tree.body[0], ast.Expr) else tree.body  # the docstring aside
    code = {line for node in body if not isinstance(node, (ast.Import, ast.ImportFrom))
            for line in range(node.lineno, node.end_lineno + 1)}
    lines = text.splitlines()
    code_lines = [n for n in code if lines[n - 1].strip() and not lines[n - 1].strip().startswith("#")]
    assert len(code_lines) <= 40, f"{handler} has {len(code_lines)} lines of code"
    assert '"sandbox"' not in text and "boto3" not in text

