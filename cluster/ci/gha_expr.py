"""GitHub Actions expressions (``${{ }}``): parse, evaluate, interpolate, as the runner does.

Used by run_workflow.py. Why a module of our own: PyPI has no maintained Python evaluator of this
language; what it has are tree-sitter grammars of the syntax (a parser only, as a compiled
extension, the evaluation still to write) and wrappers around nektos/act (Go, runs steps in
Docker). The language is small, so a recursive-descent parser and the documented semantics fit in
this file, with no dependency.

Semantics (docs.github.com, "Evaluate expressions in workflows and actions"):

* literals: ``null``, ``true``, ``false``, numbers (``-9``, ``2.5``, ``0xff``, ``1e3``), strings
  in single quotes (``''`` is a quote);
* operators by precedence: ``( )``, ``[ ]`` and ``.`` (``.*`` filters an object or array), ``!``,
  ``< <= > >=``, ``== !=``, ``&&``, ``||``; ``&&`` and ``||`` return an operand, not a boolean
  (``a || 'x'`` is ``a`` when it is truthy);
* comparison: strings compare case-insensitively; values of different types are converted to
  numbers first (null 0, booleans 1/0, a numeric string its number, anything else NaN, and NaN
  equals nothing); arrays and objects are equal only to themselves;
* falsy: ``false``, ``0``, ``-0``, ``''``, ``null``, NaN; everything else is truthy;
* context and property names are case-insensitive; a missing property is ``null``;
* functions: ``contains``, ``startsWith``, ``endsWith`` (case-insensitive), ``format``, ``join``,
  ``toJSON`` (two-space indented), ``fromJSON``, ``hashFiles`` and the status functions
  ``success``, ``always``, ``failure``, ``cancelled``, the last five supplied by the caller;
* in a string, ``${{ x }}`` becomes ``x`` converted to a string (null '', booleans
  'true'/'false', integral numbers without a decimal point, arrays 'Array', objects 'Object').

``Unknown`` stands for a value that exists only once a step has run (run_workflow.py's --plan):
its property accesses stay unknown, any other use makes the whole expression unknown, and
interpolation keeps such an expression as written.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class ExpressionError(Exception):
    """A syntax error, an unknown name or function, or a failed function call."""


class UnknownValue(Exception):
    """Raised when an expression needs a value that is not known yet (see Unknown)."""


@dataclass(frozen=True)
class Unknown:
    """A value known only after a step has run; ``text`` is the expression that names it."""

    text: str


class FilteredArray(list[Any]):
    """The result of ``.*``: property access on it maps over its elements."""


STATUS_FUNCTIONS = ("success", "always", "failure", "cancelled")
# name -> (minimum, maximum) argument count; None = no maximum
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "contains": (2, 2),
    "startswith": (2, 2),
    "endswith": (2, 2),
    "format": (1, None),
    "join": (1, 2),
    "tojson": (1, 1),
    "fromjson": (1, 1),
    "hashfiles": (1, None),
    "success": (0, 0),
    "always": (0, 0),
    "failure": (0, 0),
    "cancelled": (0, 0),
}


# --- syntax tree -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Prop:
    target: Node
    name: str  # "*" for the object filter


@dataclass(frozen=True)
class Index:
    target: Node
    index: Node


@dataclass(frozen=True)
class Call:
    name: str  # lower case
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Literal | Name | Prop | Index | Call | Not | Binary


# --- tokens and parser -------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?(?:0x[0-9a-fA-F]+|0o[0-7]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
  | (?P<string>'(?:[^']|'')*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\].,*])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokens(source: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ExpressionError(f"unexpected character {source[pos]!r} at position {pos + 1} in: {source}")
        kind = match.lastgroup or ""
        text = match.group()
        # "-" starts a number only where a value may start (there is no minus operator)
        if kind == "number" and text.startswith("-") and out and out[-1].kind in ("number", "string", "ident"):
            raise ExpressionError(f"unexpected '-' at position {pos + 1} in: {source}")
        if kind != "space":
            out.append(_Token(kind, text, pos))
        pos = match.end()
    return out


def _number(text: str) -> float | int:
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("-").lower()
    if body.startswith("0x"):
        return sign * int(body[2:], 16)
    if body.startswith("0o"):
        return sign * int(body[2:], 8)
    value = float(body) * sign
    return int(value) if value.is_integer() and "e" not in body and "." not in body else value


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.pos = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, text: str | None = None) -> _Token:
        token = self._peek()
        if token is None:
            raise ExpressionError(f"unexpected end of expression: {self.source}")
        if text is not None and token.text != text:
            raise ExpressionError(f"expected {text!r} at position {token.pos + 1}, found {token.text!r} in: {self.source}")
        self.pos += 1
        return token

    def _at(self, *texts: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "op" and token.text in texts

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("empty expression")
        node = self._or()
        token = self._peek()
        if token is not None:
            raise ExpressionError(f"unexpected {token.text!r} at position {token.pos + 1} in: {self.source}")
        return node

    def _or(self) -> Node:
        node = self._and()
        while self._at("||"):
            self._take()
            node = Binary("||", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._equality()
        while self._at("&&"):
            self._take()
            node = Binary("&&", node, self._equality())
        return node

    def _equality(self) -> Node:
        node = self._comparison()
        while self._at("==", "!="):
            op = self._take().text
            node = Binary(op, node, self._comparison())
        return node

    def _comparison(self) -> Node:
        node = self._unary()
        while self._at("<", "<=", ">", ">="):
            op = self._take().text
            node = Binary(op, node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._at("!"):
            self._take()
            return Not(self._unary())
        return self._postfix()

    def _postfix(self) -> Node:
        node = self._primary()
        while True:
            if self._at("."):
                self._take()
                token = self._take()
                if token.kind == "ident" or token.text == "*":
                    node = Prop(node, token.text)
                else:
                    raise ExpressionError(f"expected a property name after '.' at position {token.pos + 1} in: {self.source}")
            elif self._at("["):
                self._take()
                if self._at("*"):
                    self._take()
                    node = Prop(node, "*")
                else:
                    node = Index(node, self._or())
                self._take("]")
            else:
                return node

    def _primary(self) -> Node:
        token = self._take()
        if token.kind == "number":
            return Literal(_number(token.text))
        if token.kind == "string":
            return Literal(token.text[1:-1].replace("''", "'"))
        if token.kind == "op" and token.text == "(":
            node = self._or()
            self._take(")")
            return node
        if token.kind == "ident":
            word = token.text
            if self._at("("):
                return self._call(token)
            lowered = word.lower()
            if lowered in ("true", "false"):
                return Literal(lowered == "true")
            if lowered == "null":
                return Literal(None)
            if word == "NaN":
                return Literal(math.nan)
            if word == "Infinity":
                return Literal(math.inf)
            return Name(word)
        raise ExpressionError(f"unexpected {token.text!r} at position {token.pos + 1} in: {self.source}")

    def _call(self, token: _Token) -> Node:
        name = token.text.lower()
        if name not in FUNCTIONS:
            raise ExpressionError(f"unrecognized function: '{token.text}' in: {self.source}")
        self._take("(")
        args: list[Node] = []
        if not self._at(")"):
            args.append(self._or())
            while self._at(","):
                self._take()
                args.append(self._or())
        self._take(")")
        low, high = FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            raise ExpressionError(f"wrong number of arguments to {token.text}(): {len(args)} in: {self.source}")
        return Call(name, tuple(args))


def parse(source: str) -> Node:
    """The syntax tree of one expression (the text inside ``${{ }}``)."""
    return _Parser(source).parse()


def names_used(node: Node) -> set[str]:
    """The context names (lower case) an expression reads."""
    found: set[str] = set()

    def walk(n: Node) -> None:
        if isinstance(n, Name):
            found.add(n.name.lower())
        elif isinstance(n, Prop):
            walk(n.target)
        elif isinstance(n, Index):
            walk(n.target)
            walk(n.index)
        elif isinstance(n, Call):
            for arg in n.args:
                walk(arg)
        elif isinstance(n, Not):
            walk(n.operand)
        elif isinstance(n, Binary):
            walk(n.left)
            walk(n.right)

    walk(node)
    return found


def calls_status_function(node: Node) -> bool:
    """Whether an ``if:`` condition calls success(), always(), failure() or cancelled()."""
    if isinstance(node, Call):
        return node.name in STATUS_FUNCTIONS or any(calls_status_function(a) for a in node.args)
    if isinstance(node, Prop):
        return calls_status_function(node.target)
    if isinstance(node, Index):
        return calls_status_function(node.target) or calls_status_function(node.index)
    if isinstance(node, Not):
        return calls_status_function(node.operand)
    if isinstance(node, Binary):
        return calls_status_function(node.left) or calls_status_function(node.right)
    return False


# --- values ------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise ExpressionError(f"not an expression value: {value!r}")


_NUMERIC = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def to_number(value: Any) -> float:
    kind = _kind(value)
    if kind == "null":
        return 0.0
    if kind == "bool":
        return 1.0 if value else 0.0
    if kind == "number":
        return float(value)
    if kind == "string":
        text = value.strip()
        if text == "":
            return 0.0
        if _NUMERIC.match(text):
            return float(text)
        if re.match(r"^0x[0-9a-fA-F]+$", text):
            return float(int(text, 16))
        if re.match(r"^0o[0-7]+$", text):
            return float(int(text[2:], 8))
        return math.nan
    return math.nan


def format_number(value: float) -> str:
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def to_string(value: Any) -> str:
    """A value as ``${{ }}`` puts it into a string."""
    if isinstance(value, Unknown):
        raise UnknownValue(value.text)
    kind = _kind(value)
    if kind == "null":
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "number":
        return format_number(value)
    if kind == "string":
        return str(value)
    return "Array" if kind == "array" else "Object"


def truthy(value: Any) -> bool:
    if isinstance(value, Unknown):
        raise UnknownValue(value.text)
    kind = _kind(value)
    if kind == "null":
        return False
    if kind == "bool":
        return bool(value)
    if kind == "number":
        return not (value == 0 or math.isnan(float(value)))
    if kind == "string":
        return bool(value != "")
    return True


def equals(left: Any, right: Any) -> bool:
    lk, rk = _kind(left), _kind(right)
    if lk == rk:
        if lk == "null":
            return True
        if lk == "string":
            return str(left).casefold() == str(right).casefold()
        if lk in ("array", "object"):
            return left is right
        return bool(left == right)
    a, b = to_number(left), to_number(right)
    return not (math.isnan(a) or math.isnan(b)) and a == b


def _compare(op: str, left: Any, right: Any) -> bool:
    lk, rk = _kind(left), _kind(right)
    a: Any
    b: Any
    if lk == rk == "string":
        a, b = str(left).casefold(), str(right).casefold()
    else:
        a, b = to_number(left), to_number(right)
        if math.isnan(a) or math.isnan(b):
            return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _plain(value: Any) -> Any:
    """A value ready for json.dumps: integral floats as integers, filtered arrays as lists."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_json(value: Any) -> str:
    if isinstance(value, Unknown):
        raise UnknownValue(value.text)
    return json.dumps(_plain(value), indent=2, ensure_ascii=False)


def lookup(container: Any, key: str) -> Any:
    """``container.key`` with case-insensitive keys; null when absent."""
    if isinstance(container, Unknown):
        return Unknown(f"{container.text}.{key}")
    if isinstance(container, Mapping):
        if key in container:
            return container[key]
        folded = key.casefold()
        for name, value in container.items():
            if isinstance(name, str) and name.casefold() == folded:
                return value
    return None


def _format(template: str, args: Sequence[Any]) -> str:
    out: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char == "{":
            if template.startswith("{{", i):
                out.append("{")
                i += 2
                continue
            end = template.find("}", i)
            index_text = template[i + 1 : end] if end > 0 else ""
            if not index_text.isdigit():
                raise ExpressionError(f"format(): bad placeholder in {template!r}")
            index = int(index_text)
            if index >= len(args):
                raise ExpressionError(f"format(): {template!r} needs argument {index}, got {len(args)}")
            out.append(to_string(args[index]))
            i = end + 1
        elif char == "}":
            if not template.startswith("}}", i):
                raise ExpressionError(f"format(): unmatched '}}' in {template!r}")
            out.append("}")
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


# --- evaluation --------------------------------------------------------------------------------


@dataclass
class Env:
    """What an expression may read: contexts by name, the status functions and hashFiles."""

    contexts: Mapping[str, Any]
    status: Callable[[str], bool] | None = None
    hash_files: Callable[[list[str]], str] | None = None


def evaluate(node: Node, env: Env) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        folded = node.name.casefold()
        for name, value in env.contexts.items():
            if name.casefold() == folded:
                return value
        raise ExpressionError(f"unrecognized named-value: '{node.name}'")
    if isinstance(node, Prop):
        target = evaluate(node.target, env)
        if node.name == "*":
            if isinstance(target, Unknown):
                return Unknown(f"{target.text}.*")
            if isinstance(target, FilteredArray):
                return FilteredArray(v for item in target for v in (item.values() if isinstance(item, dict) else item))
            if isinstance(target, dict):
                return FilteredArray(target.values())
            if isinstance(target, list):
                return FilteredArray(target)
            return FilteredArray()
        if isinstance(target, FilteredArray):
            found = (lookup(item, node.name) for item in target)
            return FilteredArray(v for v in found if v is not None)
        return lookup(target, node.name)
    if isinstance(node, Index):
        target = evaluate(node.target, env)
        index = evaluate(node.index, env)
        if isinstance(target, Unknown):
            return Unknown(f"{target.text}[{to_string(index)}]")
        if isinstance(index, Unknown):
            raise UnknownValue(index.text)
        if isinstance(target, list):
            number = to_number(index)
            if math.isnan(number) or number < 0 or int(number) >= len(target):
                return None
            return target[int(number)]
        if isinstance(target, Mapping):
            return lookup(target, to_string(index))
        return None
    if isinstance(node, Not):
        return not truthy(evaluate(node.operand, env))
    if isinstance(node, Binary):
        if node.op == "&&":
            left = evaluate(node.left, env)
            return evaluate(node.right, env) if truthy(left) else left
        if node.op == "||":
            left = evaluate(node.left, env)
            return left if truthy(left) else evaluate(node.right, env)
        left, right = evaluate(node.left, env), evaluate(node.right, env)
        for value in (left, right):
            if isinstance(value, Unknown):
                raise UnknownValue(value.text)
        if node.op == "==":
            return equals(left, right)
        if node.op == "!=":
            return not equals(left, right)
        return _compare(node.op, left, right)
    return _call(node, env)


def _call(node: Call, env: Env) -> Any:
    if node.name in STATUS_FUNCTIONS:
        if env.status is None:
            raise ExpressionError(f"{node.name}() is not allowed here")
        return env.status(node.name)
    args = [evaluate(arg, env) for arg in node.args]
    if node.name == "tojson":
        return to_json(args[0])
    for value in args:
        if isinstance(value, Unknown):
            raise UnknownValue(value.text)
    if node.name == "contains":
        search, item = args
        if isinstance(search, list):
            return any(equals(element, item) for element in search)
        return to_string(item).casefold() in to_string(search).casefold()
    if node.name == "startswith":
        return to_string(args[0]).casefold().startswith(to_string(args[1]).casefold())
    if node.name == "endswith":
        return to_string(args[0]).casefold().endswith(to_string(args[1]).casefold())
    if node.name == "format":
        return _format(to_string(args[0]), args[1:])
    if node.name == "join":
        separator = to_string(args[1]) if len(args) > 1 else ","
        if isinstance(args[0], list):
            return separator.join(to_string(v) for v in args[0])
        return to_string(args[0])
    if node.name == "fromjson":
        text = to_string(args[0])
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExpressionError(f"fromJSON(): not JSON: {text!r} ({exc})") from exc
    # hashfiles
    if env.hash_files is None:
        raise ExpressionError("hashFiles() is not allowed here")
    return env.hash_files([to_string(a) for a in args])


# --- templates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A part of a template: literal text, or an expression (``text`` without the braces)."""

    text: str
    is_expression: bool


def split_template(template: str) -> list[Piece]:
    """Literal text and ``${{ }}`` expressions, in order (``}}`` inside a string literal does not end one)."""
    pieces: list[Piece] = []
    pos = 0
    while True:
        start = template.find("${{", pos)
        if start < 0:
            if pos < len(template):
                pieces.append(Piece(template[pos:], False))
            return pieces
        if start > pos:
            pieces.append(Piece(template[pos:start], False))
        i = start + 3
        in_string = False
        while i < len(template):
            if template[i] == "'":
                in_string = not in_string
            elif not in_string and template.startswith("}}", i):
                break
            i += 1
        else:
            raise ExpressionError(f"'${{{{' without its '}}}}' in: {template}")
        pieces.append(Piece(template[start + 3 : i].strip(), True))
        pos = i + 2


def is_single_expression(template: str) -> bool:
    pieces = split_template(template.strip())
    return len(pieces) == 1 and pieces[0].is_expression


def expressions_in(template: str) -> list[str]:
    return [p.text for p in split_template(template) if p.is_expression]


def evaluate_template(template: Any, env: Env) -> Any:
    """A YAML value with ``${{ }}``: the expression's own value when the value is one expression,
    else the interpolated string; non-strings are returned as they are."""
    if not isinstance(template, str):
        return template
    if "${{" not in template:
        return template
    if is_single_expression(template):
        return evaluate(parse(split_template(template.strip())[0].text), env)
    return interpolate(template, env)


def interpolate(template: str, env: Env, keep_unknown: bool = False) -> str:
    """``template`` with every ``${{ x }}`` replaced by ``x`` as a string. With keep_unknown, an
    expression whose value is not known yet stays as written."""
    out: list[str] = []
    for piece in split_template(template):
        if not piece.is_expression:
            out.append(piece.text)
            continue
        try:
            out.append(to_string(evaluate(parse(piece.text), env)))
        except UnknownValue:
            if not keep_unknown:
                raise
            out.append("${{ " + piece.text + " }}")
    return "".join(out)


def _condition_text(condition: Any) -> str:
    if isinstance(condition, bool):
        return "true" if condition else "false"
    if condition is None:
        return ""
    return str(condition).strip()


def condition_source(condition: Any) -> str:
    """The expression an ``if:`` stands for (``${{ }}`` optional), with the implicit
    ``success() &&`` when it calls no status function."""
    text = _condition_text(condition)
    if text == "":
        return "success()"
    if is_single_expression(text):
        text = split_template(text)[0].text
    elif "${{" in text:
        # text around ${{ }} is a string, not an expression: true whenever it is not empty
        return text
    node = parse(text)
    return text if calls_status_function(node) else f"success() && ({text})"


def evaluate_condition(condition: Any, env: Env) -> bool:
    """An ``if:`` as the runner evaluates it (see condition_source)."""
    text = _condition_text(condition)
    if text and not is_single_expression(text) and "${{" in text:
        succeeded = env.status("success") if env.status is not None else True
        return succeeded and interpolate(text, env) != ""
    return truthy(evaluate(parse(condition_source(condition)), env))
