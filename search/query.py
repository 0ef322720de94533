"""The public query syntax (docs/search.md), parsed into a tree of :class:`Term` leaves.

- ``司馬遷 史記``: both (AND is the space; the word ``AND`` is accepted too);
- ``史記 OR 漢書`` (or ``|``): either; OR binds tighter than the space, so
  ``司馬遷 史記 OR 漢書`` is 司馬遷 AND (史記 OR 漢書);
- ``-索隱``: not;
- ``"太史公 曰"``: a phrase; spaces and punctuation inside a term never break it, since a term is
  always matched as a character sequence (CJK is never split into words);
- ``( … )``: grouping.

Quotes may be ASCII or CJK (“…” 「…」); the full-width forms of ``-``, ``|``, ``(`` and ``)`` work too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from search.errors import SearchQueryError
from search.index import And, Node, Not, Or, Phrase

_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}
_OPEN, _CLOSE = "(（", ")）"
_MINUS = "-－"
_BAR = "|｜"


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    column: int  # code-point offset in the query


Tree = Union[Term, And, Or, Not]


def _tokens(q: str) -> list[tuple[str, str, int]]:
    """(kind, text, column): kind is term | or | not | open | close."""
    out: list[tuple[str, str, int]] = []
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
        elif ch in _QUOTES:
            end = q.find(_QUOTES[ch], i + 1)
            if end < 0:
                raise SearchQueryError("unclosed quote", field="q", column=i)
            out.append(("term", q[i + 1:end], i + 1))
            i = end + 1
        elif ch in _OPEN:
            out.append(("open", ch, i))
            i += 1
        elif ch in _CLOSE:
            out.append(("close", ch, i))
            i += 1
        elif ch in _BAR:
            out.append(("or", ch, i))
            i += 1
        elif ch in _MINUS and i + 1 < n and not q[i + 1].isspace():
            out.append(("not", ch, i))
            i += 1
        else:
            j = i
            while j < n and not q[j].isspace() and q[j] not in _QUOTES and q[j] not in _OPEN + _CLOSE + _BAR:
                j += 1
            word = q[i:j]
            if word == "OR":
                out.append(("or", word, i))
            elif word != "AND":
                out.append(("term", word, i))
            i = j
    return out


class _Parser:
    def __init__(self, q: str) -> None:
        self.tokens = _tokens(q)
        self.pos = 0
        self.length = len(q)

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Tree:
        tree = self.and_expr()
        tok = self.peek()
        if tok is not None:
            raise SearchQueryError(f"unexpected {tok[1]!r}", field="q", column=tok[2])
        return tree

    def and_expr(self) -> Tree:
        items: list[Tree] = []
        while (tok := self.peek()) is not None and tok[0] not in ("close",):
            if tok[0] == "or":
                raise SearchQueryError("OR needs a term on both sides", field="q", column=tok[2])
            items.append(self.or_expr())
        if not items:
            col = tok[2] if tok else self.length
            raise SearchQueryError("nothing to search for", field="q", column=col)
        return items[0] if len(items) == 1 else And(tuple(items))

    def or_expr(self) -> Tree:
        items = [self.unary()]
        while (tok := self.peek()) is not None and tok[0] == "or":
            self.take()
            if self.peek() is None or self.peek()[0] in ("or", "close"):
                raise SearchQueryError("OR needs a term on both sides", field="q", column=tok[2])
            items.append(self.unary())
        if len(items) > 1:
            for item in items:
                if isinstance(item, Not):
                    raise SearchQueryError("a -term can not be one side of OR", field="q")
            return Or(tuple(items))
        return items[0]

    def unary(self) -> Tree:
        tok = self.take()
        if tok[0] == "not":
            if self.peek() is None:
                raise SearchQueryError("- needs a term after it", field="q", column=tok[2])
            inner = self.unary()
            return inner.item if isinstance(inner, Not) else Not(inner)
        if tok[0] == "open":
            inner = self.and_expr()
            close = self.peek()
            if close is None or close[0] != "close":
                raise SearchQueryError("unclosed parenthesis", field="q", column=tok[2])
            self.take()
            return inner
        if tok[0] == "term":
            return Term(tok[1], tok[2])
        raise SearchQueryError(f"unexpected {tok[1]!r}", field="q", column=tok[2])


def parse(q: str) -> Tree:
    """Parse a query string; raises :class:`SearchQueryError` with the column of the problem."""
    if not q or not q.strip():
        raise SearchQueryError("the query is empty", field="q", column=0)
    return _Parser(q).parse()


def compile_tree(tree: Tree, to_chars: Callable[[str], str]) -> tuple[Node, list[tuple[str, str]]]:
    """Replace every term by its match stream (``to_chars``); terms with nothing to match drop out.

    Returns the engine tree and the positive phrases as (typed characters, match stream) pairs,
    which the service uses to find and explain the matches in each hit.
    """
    positives: list[tuple[str, str]] = []

    def walk(node: Tree, negated: bool) -> Node | None:
        if isinstance(node, Term):
            chars = to_chars(node.text)
            if not chars:
                return None
            if not negated:
                positives.append((node.text, chars))
            return Phrase(chars)
        if isinstance(node, Not):
            inner = walk(node.item, not negated)
            return Not(inner) if inner is not None else None
        items = [x for x in (walk(i, negated) for i in node.items) if x is not None]
        if not items:
            return None
        if len(items) == 1:
            return items[0]
        return And(tuple(items)) if isinstance(node, And) else Or(tuple(items))

    root = walk(tree, False)
    if root is None:
        raise SearchQueryError("the query has no characters to search for (only punctuation or spaces)", field="q")
    if isinstance(root, Not) or (isinstance(root, And) and all(isinstance(i, Not) for i in root.items)):
        raise SearchQueryError("the query needs at least one term to find, not only -terms", field="q")
    return root, positives
