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
        left = self._and()
        while self._peek() == "or":
            self._take()
            left = ("or", left, self._and())
        return left

    def _and(self):
        left = self._not()
        while self._peek() == "and":
            self._take()
            left = ("and", left, self._not())
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
