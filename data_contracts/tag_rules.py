"""Custom screens: a boolean rule over a security's tags (securities master ``tags``)."""

from __future__ import annotations

import re


class TagRule:
    """A boolean rule over a security's tags: names, ``and``, ``or``, ``not``, parentheses.

    Parsed once into nested tuples (no eval): ``or`` binds loosest, then ``and``, then ``not``.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._tokens = re.findall(r"\(|\)|[A-Za-z0-9_.\-]+|\S", text)
        self._at = 0
        self.tree = self._or()
        if self._at != len(self._tokens):
            raise ValueError(f"rule {text!r}: unexpected {self._tokens[self._at]!r}")

    def _peek(self) -> str | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError(f"rule {self.text!r}: ends too early")
        self._at += 1
        return token

    def _or(self):
        return self._chain("or", self._and)

    def _and(self):
        return self._chain("and", self._not)

    def _chain(self, op: str, operand):
        """``operand (op operand)*``, left-associative."""
        left = operand()
        while self._peek() == op:
            self._take()
            left = (op, left, operand())
        return left

    def _not(self):
        if self._peek() == "not":
            self._take()
            return ("not", self._not())
        token = self._take()
        if token == "(":
            inner = self._or()
            if self._take() != ")":
                raise ValueError(f"rule {self.text!r}: missing ')'")
            return inner
        if token in ("and", "or", ")") or not (token[0].isalnum() or token[0] == "_"):
            raise ValueError(f"rule {self.text!r}: unexpected {token!r}")
        return ("tag", token)

    def matches(self, tags: set[str]) -> bool:
        def ev(node) -> bool:
            op = node[0]
            if op == "tag":
                return node[1] in tags
            if op == "not":
                return not ev(node[1])
            return ev(node[1]) and ev(node[2]) if op == "and" else ev(node[1]) or ev(node[2])
        return ev(self.tree)
