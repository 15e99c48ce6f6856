"""The console's Jinja2 environment: every template autoescaped (whatever its name), undefined names are errors, and
the static files addressed by a digest of their content so a browser may cache them for good."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("dawra.web", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    # A JSON data block inside <script type="application/json">: tojson escapes <, >, & and ' so no text a customer
    # typed can close the element (the console's script reads it; nothing inline runs).
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(context)


def static_root() -> Traversable:
    return resources.files("dawra.web").joinpath("static")


def static_file(name: str) -> tuple[bytes, str] | None:
    """A static file's bytes and media type, or None: only plain names under static/ (no '..', no hidden files)."""
    parts = name.split("/")
    if not name or any(not part or part.startswith(".") for part in parts):
        return None
    suffix = "." + parts[-1].rsplit(".", 1)[-1] if "." in parts[-1] else ""
    if suffix not in STATIC_TYPES:
        return None
    node = static_root()
    for part in parts:
        node = node.joinpath(part)
    if not node.is_file():
        return None
    return node.read_bytes(), STATIC_TYPES[suffix]


@cache
def static_version(name: str) -> str:
    found = static_file(name)
    return hashlib.sha256(found[0]).hexdigest()[:12] if found else "0"

