"""PostgREST's logic-tree grammar (``or=``, ``and=``, ``not.or=``), scanned by kind (pure).

    scan_logic("(id.in.(1,4),tags.cs.{is:open,priority:high},and(a.gt.1,b.eq.\\"x,y\\"))")
    → (Leaf('id', 'in', ('1', '4')), Leaf('tags', 'cs', '{is:open,priority:high}'),
       Group(False, 'and', (Leaf('a', 'gt', '1'), Leaf('b', 'eq', 'x,y'))))

Values follow PostgREST v13's parsec grammar (src/library/PostgREST/ApiRequest/QueryParams.hs,
``pLogicTree``, ``pLogicSingleVal``, ``pListVal``), one kind at a time:

- a double-quoted value, ``\\`` escaping the next character, when a ``,`` or ``)`` follows it;
- a PostgreSQL array literal ``{...}`` without nested braces (commas inside are part of it);
- ``in.(...)``: a parenthesised list of quoted or bare elements;
- otherwise the characters up to the next ``,`` or ``)``.

So a range with a comma (``[1,5)``) or a nested array (``{{1,2},{3,4}}``) must be quoted
inside a logic tree, exactly as PostgREST requires; unquoted, it is refused with a detail
saying so (PostgREST refuses it too, with a parsec message). Whitespace around ``(``, ``,``
and ``)`` is skipped (PostgREST's ``lexeme``). Errors: ``LogicSyntaxError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GROUP = re.compile(r"(not\.)?(and|or)[ \t]*\(")
_OPERATION = re.compile(r"(not\.)?([A-Za-z]+)(\([A-Za-z0-9_ $]*\))?\.")
_STOP = ",)"


class LogicSyntaxError(ValueError):
    """Where (0-based character ``position``) and why a logic tree does not parse."""

    def __init__(self, position: int, detail: str) -> None:
        super().__init__(f"at character {position + 1}: {detail}")
        self.position = position
        self.detail = f"at character {position + 1}: {detail}"


@dataclass(frozen=True)
class Leaf:
    """One filter of a tree: ``field`` as written (quotes and JSON path kept), the operator
    with its modifier (``eq(any)``, ``fts(english)``) and the decoded value (a tuple for ``in``)."""

    field: str
    operator: str
    value: str | tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class Group:
    negated: bool
    operator: str  # "and" | "or"
    items: tuple[Leaf | Group, ...]


def scan_logic(text: str, *, max_depth: int) -> tuple[Leaf | Group, ...]:
    """The items of the parenthesised group ``text``; groups nested deeper than ``max_depth``
    raise ``LogicSyntaxError`` (never a recursion error)."""
    scanner = _Scanner(text, max_depth)
    items = scanner.group_items(0)
    if scanner.pos != len(text):
        raise LogicSyntaxError(scanner.pos, f"unexpected {text[scanner.pos]!r} after the closing ')'")
    return items


class _Scanner:
    def __init__(self, text: str, max_depth: int) -> None:
        self.text = text
        self.pos = 0
        self.max_depth = max_depth

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def expect(self, char: str, what: str) -> None:
        self.skip_spaces()
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end"
            raise LogicSyntaxError(self.pos, f"expected {what}, found {found}")
        self.pos += 1
        self.skip_spaces()

    def group_items(self, depth: int) -> tuple[Leaf | Group, ...]:
        if depth > self.max_depth:
            raise LogicSyntaxError(self.pos, f"more than {self.max_depth} nested and/or groups")
        self.expect("(", "'(' opening a list of conditions, e.g. or=(a.eq.1,b.eq.2)")
        items = [self.tree(depth)]
        while True:
            self.skip_spaces()
            if self.peek() == ",":
                self.pos += 1
                self.skip_spaces()
                items.append(self.tree(depth))
            else:
                self.expect(")", "',' or ')' after a condition")
                return tuple(items)

    def tree(self, depth: int) -> Leaf | Group:
        group = _GROUP.match(self.text, self.pos)
        if group:
            self.pos = group.end() - 1
            items = self.group_items(depth + 1)
            return Group(bool(group.group(1)), group.group(2), items)
        return self.leaf()

    def leaf(self) -> Leaf:
        start = self.pos
        field = self.field()
        operation = _OPERATION.match(self.text, self.pos)
        if not field or not operation:
            raise LogicSyntaxError(start, f"{self.text[start:self.pos + 12]!r}... is not "
                                          "<column>.<operator>.<value> nor and(...)/or(...)")
        self.pos = operation.end()
        name = operation.group(2) + (operation.group(3) or "")
        value: str | tuple[str, ...]
        value = self.list_value() if operation.group(2) == "in" else self.single_value()
        return Leaf(field, name, value, bool(operation.group(1)))

    def field(self) -> str:
        """Up to the '.' before the operator; double quotes may hide dots and commas."""
        start = self.pos
        while self.peek() and self.peek() != ".":
            if self.peek() == '"':
                self.quoted()
            elif self.peek() in "(),":
                break
            else:
                self.pos += 1
        if self.peek() != ".":
            return ""
        self.pos += 1
        return self.text[start:self.pos - 1].strip()

    def quoted(self) -> str:
        """A "..." value with backslash escapes, decoded; the cursor ends after the quote."""
        out, self.pos = [], self.pos + 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
            elif char == '"':
                self.pos += 1
                return "".join(out)
            else:
                out.append(char)
                self.pos += 1
        raise LogicSyntaxError(self.pos, 'a quoted value has no closing \'"\'')

    def bare(self) -> str:
        start = self.pos
        while self.peek() and self.peek() not in _STOP:
            self.pos += 1
        return self.text[start:self.pos]

    def quoted_element(self) -> str | None:
        """A quoted value followed by ',' or ')' (or the end), decoded; else None and the
        cursor stays put (PostgREST then reads the bare characters, quotes included)."""
        start = self.pos
        if self.peek() != '"':
            return None
        decoded = self.quoted()
        if self.peek() in ("", *_STOP):
            return decoded
        self.pos = start
        return None

    def single_value(self) -> str:
        start = self.pos
        decoded = self.quoted_element()
        if decoded is not None:
            return decoded
        if self.peek() == "{":
            close = self.text.find("}", start)
            inner_open = self.text.find("{", start + 1)
            if close != -1 and (inner_open == -1 or inner_open > close):
                self.pos = close + 1
                return self.text[start:self.pos]
            if inner_open != -1 and (close == -1 or inner_open < close):
                raise LogicSyntaxError(start, "a nested array literal inside and=/or= must be "
                                              'quoted, e.g. "{{1,2},{3,4}}"')
        value = self.bare()
        if value[:1] in ("[", "(") and self.peek() == ",":
            raise LogicSyntaxError(start, f"the range starting {value!r} has a comma: inside "
                                          'and=/or= quote it, e.g. "[1,5)"')
        return value

    def list_value(self) -> tuple[str, ...]:
        self.expect("(", "'(' opening the in.(...) list")
        if self.peek() == ")":
            self.expect(")", "')'")
            return ()
        elements = [self.list_element()]
        while self.peek() == ",":
            self.pos += 1
            elements.append(self.list_element())
        self.expect(")", "',' or ')' in the in.(...) list")
        return tuple(elements)

    def list_element(self) -> str:
        decoded = self.quoted_element()
        return self.bare() if decoded is None else decoded
