"""Renders API Gateway mapping templates (VTL) the way API Gateway would, for the subset the CDK app uses.

Velocity: text, references (``$a.b.c(args)``, ``$!quiet``, ``${formal}``), ``#set``, ``#if``/``#elseif``/``#else``/
``#end`` (also ``#{else}``/``#{end}``), string literals (no backslash escapes: ``"\\'"`` is three characters, as in
Velocity 1.7), integers, ``true``/``false``/``null``, ``==``, ``!=``, ``&&``, ``||``, ``!`` and parentheses. A null
is false in a condition and renders as nothing after ``$!``; a null rendered without ``!`` is an error here (Velocity
would print the reference's source text, which is never what a template means).

API Gateway: ``$util.escapeJavaScript`` (Apache Commons Lang's ``StringEscapeUtils.escapeJavaScript``: ``'`` becomes
``\\'``, non-ASCII ``\\uXXXX`` per UTF-16 unit), ``$util.urlEncode`` (``java.net.URLEncoder``, UTF-8),
``$util.base64Encode`` (of the string's UTF-8 bytes), ``$input.body``, ``$input.params()`` and
``$input.params(name)`` (path, then query string, then header; missing is ""), and ``$context`` as a dict. Strings
have Java's ``replaceAll`` (the regex subset Python shares with Java, a literal replacement).

Anything outside the subset raises :class:`VtlError`, so a template that grows past it fails its test instead of
being rendered wrongly.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any


class VtlError(Exception):
    pass


# --- $util -----------------------------------------------------------------------------------------------------------
def escape_javascript(text: str) -> str:
    """commons-lang 2.x StringEscapeUtils.escapeJavaScript (escapeSingleQuote and escapeForwardSlash on)."""
    out = []
    units = text.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(units), 2):
        ch = int.from_bytes(units[i:i + 2], "big")
        if ch > 0x7F:
            out.append(f"\\u{ch:04X}")
        elif ch < 32:
            out.append({8: "\\b", 10: "\\n", 9: "\\t", 12: "\\f", 13: "\\r"}.get(ch, f"\\u{ch:04X}"))
        else:
            c = chr(ch)
            out.append({"'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/"}.get(c, c))
    return "".join(out)


def url_encode(text: str) -> str:
    """java.net.URLEncoder.encode(text, "UTF-8"): a-z A-Z 0-9 . - * _ kept, space as +, the rest %XX (upper)."""
    out = []
    for byte in text.encode("utf-8", "replace"):
        c = chr(byte)
        if c.isascii() and (c.isalnum() or c in ".-*_"):
            out.append(c)
        elif c == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


class Util:
    def escapeJavaScript(self, text):  # API Gateway's names
        return None if text is None else escape_javascript(str(text))

    def urlEncode(self, text):
        return None if text is None else url_encode(str(text))

    def base64Encode(self, text):
        return None if text is None else base64.b64encode(str(text).encode("utf-8", "replace")).decode("ascii")


@dataclass
class Input:
    body: str = ""
    path: dict[str, str] = field(default_factory=dict)
    querystring: dict[str, str] = field(default_factory=dict)
    header: dict[str, str] = field(default_factory=dict)

    def params(self, name: str | None = None):
        if name is None:
            return {"path": self.path, "querystring": self.querystring, "header": self.header}
        for source in (self.path, self.querystring, self.header):
            if name in source:
                return source[name]
        return ""


def _java_replace_all(text: str, regex: str, replacement: str) -> str:
    if "$" in replacement or "\\" in replacement:
        raise VtlError(f"replaceAll with group references or escapes in the replacement: {replacement!r}")
    return re.sub(regex, lambda _: replacement, text)


# --- the template language -------------------------------------------------------------------------------------------
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NULL = object()


class _Parser:
    def __init__(self, source: str):
        self.s, self.i = source, 0

    # nodes: ("text", str) | ("ref", chain, quiet, source) | ("set", name, expr) | ("if", [(cond, body)], else_body)
    def parse(self, stop: tuple[str, ...] = ()) -> tuple[list, str | None]:
        nodes, text = [], []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "#":
                directive = self._directive()
                if directive is None:
                    text.append(c)
                    self.i += 1
                    continue
                if text:
                    nodes.append(("text", "".join(text)))
                    text = []
                if directive in stop:
                    return nodes, directive
                if directive in ("else", "elseif", "end"):
                    raise VtlError(f"#{directive} without #if at {self.i}")
                nodes.append(self._node(directive))
            elif c == "$" and self._reference_ahead():
                if text:
                    nodes.append(("text", "".join(text)))
                    text = []
                nodes.append(self._reference_node())
            else:
                text.append(c)
                self.i += 1
        if text:
            nodes.append(("text", "".join(text)))
        if stop:
            raise VtlError(f"missing #end (expected one of {stop})")
        return nodes, None

    def _directive(self) -> str | None:
        m = re.compile(r"#\{?(set|if|elseif|else|end)\}?").match(self.s, self.i)
        if not m:
            if self.s.startswith("##", self.i) or self.s.startswith("#*", self.i):
                raise VtlError("VTL comments are outside the subset")
            if re.compile(r"#\{?[A-Za-z]").match(self.s, self.i):
                raise VtlError(f"unknown directive at {self.s[self.i:self.i + 20]!r}")
            return None
        name = m.group(1)
        braced = m.group(0).startswith("#{")
        if braced and not m.group(0).endswith("}"):
            raise VtlError(f"bad directive {m.group(0)!r}")
        self.i = m.end()
        return name

    def _node(self, directive: str):
        if directive == "set":
            self._expect("(")
            self._ws()
            if not self.s.startswith("$", self.i):
                raise VtlError("#set needs a $variable")
            self.i += 1
            name = self._ident()
            self._ws()
            self._expect("=")
            value = self._expression()
            self._ws()
            self._expect(")")
            return ("set", name, value)
        # if
        branches, else_body = [], []
        self._expect("(")
        cond = self._expression()
        self._ws()
        self._expect(")")
        while True:
            body, ended_by = self.parse(stop=("elseif", "else", "end"))
            branches.append((cond, body))
            if ended_by == "elseif":
                self._expect("(")
                cond = self._expression()
                self._ws()
                self._expect(")")
                continue
            if ended_by == "else":
                else_body, ended_by = self.parse(stop=("end",))
            return ("if", branches, else_body)

    def _reference_ahead(self) -> bool:
        return bool(re.compile(r"\$!?\{?[A-Za-z_]").match(self.s, self.i))

    def _reference_node(self):
        start = self.i
        self.i += 1
        quiet = self.s.startswith("!", self.i)
        if quiet:
            self.i += 1
        formal = self.s.startswith("{", self.i)
        if formal:
            self.i += 1
        chain = self._chain()
        if formal:
            self._expect("}")
        return ("ref", chain, quiet, self.s[start:self.i])

    def _chain(self) -> list:
        chain = [("var", self._ident())]
        while self.s.startswith(".", self.i) and _IDENT.match(self.s, self.i + 1):
            self.i += 1
            name = self._ident()
            if self.s.startswith("(", self.i):
                self.i += 1
                args = []
                self._ws()
                if not self.s.startswith(")", self.i):
                    while True:
                        args.append(self._expression())
                        self._ws()
                        if self.s.startswith(",", self.i):
                            self.i += 1
                            continue
                        break
                self._expect(")")
                chain.append(("call", name, args))
            else:
                chain.append(("prop", name))
        return chain

    # expressions: or -> and -> comparison -> unary -> primary
    def _expression(self):
        left = self._and()
        while self._take("||"):
            left = ("or", left, self._and())
        return left

    def _and(self):
        left = self._comparison()
        while self._take("&&"):
            left = ("and", left, self._comparison())
        return left

    def _comparison(self):
        left = self._unary()
        for op in ("==", "!="):
            if self._take(op):
                return (op, left, self._unary())
        return left

    def _unary(self):
        self._ws()
        if self.s.startswith("!", self.i) and not self.s.startswith("!=", self.i):
            self.i += 1
            return ("not", self._unary())
        return self._primary()

    def _primary(self):
        self._ws()
        c = self.s[self.i:self.i + 1]
        if c == "(":
            self.i += 1
            inner = self._expression()
            self._ws()
            self._expect(")")
            return inner
        if c in ("'", '"'):
            end = self.s.find(c, self.i + 1)
            if end < 0:
                raise VtlError("unterminated string literal")
            literal = self.s[self.i + 1:end]
            if c == '"' and ("$" in literal or "#" in literal):
                raise VtlError(f"interpolated string literals are outside the subset: {literal!r}")
            self.i = end + 1
            return ("lit", literal)
        if c == "$":
            self.i += 1
            if self.s.startswith("!", self.i):
                self.i += 1
            return ("chain", self._chain())
        m = re.compile(r"-?\d+\b|true\b|false\b|null\b").match(self.s, self.i)
        if m:
            self.i = m.end()
            word = m.group(0)
            return ("lit", {"true": True, "false": False, "null": None}[word] if word.isalpha() else int(word))
        raise VtlError(f"unexpected {self.s[self.i:self.i + 20]!r}")

    def _take(self, token: str) -> bool:
        self._ws()
        if self.s.startswith(token, self.i):
            self.i += len(token)
            return True
        return False

    def _ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def _expect(self, token: str) -> None:
        if not self.s.startswith(token, self.i):
            raise VtlError(f"expected {token!r} at {self.s[self.i:self.i + 20]!r}")
        self.i += len(token)

    def _ident(self) -> str:
        m = _IDENT.match(self.s, self.i)
        if not m:
            raise VtlError(f"expected a name at {self.s[self.i:self.i + 20]!r}")
        self.i = m.end()
        return m.group(0)


class _Evaluator:
    def __init__(self, variables: dict[str, Any]):
        self.vars = dict(variables)

    def run(self, nodes: list) -> str:
        out = []
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "ref":
                _, chain, quiet, source = node
                value = self.chain(chain)
                if value is None:
                    if not quiet:
                        raise VtlError(f"{source} is null (Velocity would print {source!r} itself)")
                    continue
                out.append(value if isinstance(value, str) else _to_string(value))
            elif kind == "set":
                self.vars[node[1]] = self.expr(node[2])
            elif kind == "if":
                _, branches, else_body = node
                for cond, body in branches:
                    if _truthy(self.expr(cond)):
                        out.append(self.run(body))
                        break
                else:
                    out.append(self.run(else_body))
        return "".join(out)

    def expr(self, e):
        kind = e[0]
        if kind == "lit":
            return e[1]
        if kind == "chain":
            return self.chain(e[1])
        if kind == "not":
            return not _truthy(self.expr(e[1]))
        if kind == "and":
            return _truthy(self.expr(e[1])) and _truthy(self.expr(e[2]))
        if kind == "or":
            return _truthy(self.expr(e[1])) or _truthy(self.expr(e[2]))
        if kind in ("==", "!="):
            equal = self.expr(e[1]) == self.expr(e[2])
            return equal if kind == "==" else not equal
        raise VtlError(f"unknown expression {e!r}")

    def chain(self, chain: list):
        (_, name), *steps = chain
        value = self.vars.get(name, _NULL)
        if value is _NULL:
            return None
        for step in steps:
            if value is None:
                return None
            if step[0] == "prop":
                value = value.get(step[1]) if isinstance(value, dict) else getattr(value, step[1], None)
                continue
            _, method, args = step
            args = [self.expr(a) for a in args]
            if isinstance(value, str):
                if method != "replaceAll":
                    raise VtlError(f"String.{method} is outside the subset")
                value = _java_replace_all(value, *args)
            elif isinstance(value, dict):
                if method != "get":
                    raise VtlError(f"Map.{method} is outside the subset")
                value = value.get(*args)
            else:
                function = getattr(value, method, None)
                if function is None:
                    raise VtlError(f"no method {method} on {type(value).__name__}")
                value = function(*args)
        return value


def _truthy(value) -> bool:
    # Velocity 1.7: only null and false are false (an empty string is true).
    return value is not None and value is not False


def _to_string(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(template: str, *, input: Input | None = None, context: dict | None = None) -> str:
    nodes, _ = _Parser(template).parse()
    return _Evaluator({"util": Util(), "input": input or Input(), "context": context or {}}).run(nodes)
