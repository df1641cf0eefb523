"""Custom screens: a boolean rule over a security's tags (securities master ``tags``)."""

from __future__ import annotations

import re

MAX_DEPTH = 50  # parentheses and ``not`` nested deeper than this are refused: no screen needs it


class TagRule:
    """A boolean rule over a security's tags: names, ``and``, ``or``, ``not``, parentheses.

    Parsed once into nested tuples (no eval): ``or`` binds loosest, then ``and``, then ``not``. A
    chain of ``or`` (or ``and``) is one node with all its operands, so a rule of thousands of terms
    parses and evaluates in loops; only nesting recurses, and nesting deeper than ``MAX_DEPTH`` is
    refused with the reason (never Python's recursion limit).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._tokens = re.findall(r"\(|\)|[A-Za-z0-9_.\-]+|\S", text)
        self._at = 0
        self._depth = 0
        self.tree = self._or()
        if self._at != len(self._tokens):
            raise ValueError(f"rule {self._short()}: unexpected {self._tokens[self._at]!r}")

    def _short(self) -> str:
        return repr(self.text) if len(self.text) <= 80 else repr(self.text[:77] + "...")

    def _peek(self) -> str | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError(f"rule {self._short()}: ends too early")
        self._at += 1
        return token

    def _or(self):
        return self._chain("or", self._and)

    def _and(self):
        return self._chain("and", self._not)

    def _chain(self, op: str, operand):
        """``operand (op operand)*`` as one node ``(op, (operands…))``, or the lone operand."""
        operands = [operand()]
        while self._peek() == op:
            self._take()
            operands.append(operand())
        return operands[0] if len(operands) == 1 else (op, tuple(operands))

    def _not(self):
        token = self._take()
        if token not in ("not", "("):
            if token in ("and", "or", ")") or not (token[0].isalnum() or token[0] == "_"):
                raise ValueError(f"rule {self._short()}: unexpected {token!r}")
            return ("tag", token)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ValueError(f"rule {self._short()}: nested more than {MAX_DEPTH} deep (parentheses or 'not')")
        if token == "not":
            node = ("not", self._not())
        else:
            node = self._or()
            if self._take() != ")":
                raise ValueError(f"rule {self._short()}: missing ')'")
        self._depth -= 1
        return node

    def matches(self, tags: set[str]) -> bool:
        def ev(node) -> bool:
            op = node[0]
            if op == "tag":
                return node[1] in tags
            if op == "not":
                return not ev(node[1])
            return all(ev(x) for x in node[1]) if op == "and" else any(ev(x) for x in node[1])
        return ev(self.tree)
