"""A mapping's JMESPath expressions and templates: compiled and checked once, with the top-level
payload keys each one reads (SPEC section 4: the key its expression starts from)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.functions import Functions

from worker.ingest.conversions import shown, to_string

_FUNCTIONS: dict[str, Any] = Functions.FUNCTION_TABLE
# Nodes whose first child is evaluated on the current value and the others on its result.
_CHAINED = frozenset(
    {
        "subexpression",
        "pipe",
        "index_expression",
        "projection",
        "value_projection",
        "filter_projection",
        "flatten",
    }
)
_CURRENT = frozenset({"current", "identity"})
# "{{" and "}}" are literal braces; a placeholder holds no braces of its own.
_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def root_keys(node: Mapping[str, Any]) -> frozenset[str] | None:
    """The payload's top-level keys a JMESPath AST reads; None when it reads the payload whole."""
    kind = node["type"]
    if kind == "field":
        return frozenset({node["value"]})
    if kind in _CURRENT:
        return None
    if kind == "expref":  # `&age` is applied to the elements of another argument, not the payload
        return frozenset()
    children = [child for child in node["children"] if isinstance(child, dict)]
    if kind in _CHAINED:
        if kind in ("subexpression", "pipe") and children[0]["type"] in _CURRENT:
            return root_keys(children[1])  # `@.a` and `@ | a` read `a`
        return root_keys(children[0])
    keys: set[str] = set()
    for child in children:  # multiselects, functions, comparisons: all read the current value
        child_keys = root_keys(child)
        if child_keys is None:
            return None
        keys |= child_keys
    return frozenset(keys)


@dataclass(frozen=True)
class Expression:
    """A compiled JMESPath expression and the top-level keys it reads (None: the whole payload)."""

    text: str
    parsed: jmespath.parser.ParsedResult
    reads: frozenset[str] | None

    def search(self, payload: object) -> Any:
        """The expression's value on ``payload``; ValueError when it cannot be evaluated on it."""
        try:
            return self.parsed.search(payload)
        except (JMESPathError, TypeError, ValueError, OverflowError, RecursionError) as error:
            raise ValueError(f"cannot evaluate {self.text} on this payload: {error}") from None


def compile_expression(text: object) -> Expression:
    """Compile and check a JMESPath expression; ValueError says what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected a JMESPath expression, got {shown(text)}")
    try:
        parsed = jmespath.compile(text)
    except JMESPathError as error:
        raise ValueError(
            f"JMESPath expression {text!r} does not compile: {_one_line(error)}"
        ) from None
    problem = _function_problem(parsed.parsed)
    if problem:
        raise ValueError(f"JMESPath expression {text!r} {problem}")
    return Expression(text, parsed, root_keys(parsed.parsed))


def _one_line(error: JMESPathError) -> str:
    # jmespath's messages end with the expression and a caret on lines of their own.
    first = str(error).splitlines()[0].removesuffix(":").removesuffix(", for expression")
    position = getattr(error, "lex_position", None)
    if isinstance(position, int) and "column" not in first:
        first += f" at column {position}"
    return first


def _function_problem(node: Mapping[str, Any]) -> str | None:
    # jmespath finds unknown functions and wrong argument counts only when it evaluates them.
    if node["type"] == "function_expression":
        name, given = node["value"], len(node["children"])
        spec = _FUNCTIONS.get(name)
        if spec is None:
            return f"calls unknown function {name}()"
        signature = spec["signature"]
        variadic = bool(signature) and bool(signature[-1].get("variadic"))
        if given < len(signature) or (given > len(signature) and not variadic):
            return f"calls {name}() with {given} arguments; it takes {len(signature)}"
    for child in node["children"]:
        problem = _function_problem(child) if isinstance(child, dict) else None
        if problem:
            return problem
    return None


def parse_template(text: str) -> tuple[str | Expression, ...]:
    """Split "{contact.first} {contact.last}" into literal text and compiled placeholders."""
    parts: list[str | Expression] = []
    position = 0
    for token in _TEMPLATE_TOKEN.finditer(text):
        parts.append(text[position : token.start()])
        position = token.end()
        if token[0] in ("{{", "}}"):
            parts.append(token[0][0])
        elif token[1] is None:
            raise ValueError(f"template {text!r} has an unpaired {token[0]!r} at {token.start()}")
        else:
            parts.append(compile_expression(token[1]))
    parts.append(text[position:])
    return tuple(part for part in parts if part != "")


def fill_template(parts: tuple[str | Expression, ...], payload: object) -> str:
    """The template filled from ``payload``: missing values empty, whitespace runs collapsed."""
    filled = "".join(
        part if isinstance(part, str) else _as_text(part.search(payload)) for part in parts
    )
    return " ".join(filled.split())


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    try:
        return to_string(value)
    except ValueError:  # NaN and Infinity have no text a template could want
        return ""
