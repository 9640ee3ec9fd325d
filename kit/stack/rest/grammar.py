"""PostgREST's query-string grammar, parsed into small frozen dataclasses (pure: no I/O).

    parse_request([("select", "id,author:users(name)"), ("id", "eq.1"), ("order", "id.desc")])
    → Request(select=(Column(Field('id')), Embed('users', alias='author', ...)),
              where=(Filter(Field('id'), 'eq', '1'),), order=(OrderTerm(Field('id'), True),), ...)

Every malformed part raises ``ParseError`` naming the query parameter it came from; the
handlers answer it with HTTP 400 and PostgREST's code ``PGRST100``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kit.stack.rest.logic_tree import Group, Leaf, LogicSyntaxError, scan_logic

MAX_NESTING = 16

COMPARISONS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=",
               "like": "LIKE", "ilike": "ILIKE", "match": "~", "imatch": "~*",
               "cs": "@>", "cd": "<@", "ov": "&&", "sl": "<<", "sr": ">>", "nxr": "&<",
               "nxl": "&>", "adj": "-|-"}
FULL_TEXT = {"fts": "to_tsquery", "plfts": "plainto_tsquery", "phfts": "phraseto_tsquery",
             "wfts": "websearch_to_tsquery"}
QUANTIFIABLE = {"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch"}
OPERATORS = (*COMPARISONS, *FULL_TEXT, "is", "isdistinct", "in")
IS_VALUES = {"null": "NULL", "not_null": "NOT NULL", "true": "TRUE", "false": "FALSE",
             "unknown": "UNKNOWN"}
RESERVED = {"select", "order", "limit", "offset", "on_conflict", "columns", "apikey"}
LOGIC_KEYS = {"or", "and", "not.or", "not.and"}

_CAST = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\])?$")
_ARROW = re.compile(r"(->>|->)")


class ParseError(ValueError):
    """A query parameter PostgREST would reject: ``ParseError("order", "...", details)``."""

    def __init__(self, parameter: str, message: str, details: str | None = None) -> None:
        self.parameter = parameter
        self.message = message
        self.details = details
        super().__init__(f"{message} (parameter {parameter!r})")


@dataclass(frozen=True)
class Field:
    """A column, optionally followed by a JSON path: ``data->a->>b``."""

    name: str
    path: tuple[tuple[str, str], ...] = ()  # (("->", "a"), ("->>", "b"))

    @property
    def label(self) -> str:
        """The key PostgREST gives the value in a result: the last JSON key, else the column."""
        return self.path[-1][1] if self.path else self.name


@dataclass(frozen=True)
class Column:
    field: Field
    alias: str | None = None
    cast: str | None = None


@dataclass(frozen=True)
class Star:
    pass


@dataclass(frozen=True)
class Embed:
    """A related table through a foreign key: ``author:users!fk_name!inner(name)``."""

    name: str
    alias: str | None = None
    hint: str | None = None
    inner: bool = False
    items: tuple[Column | Star, ...] = (Star(),)

    @property
    def label(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True)
class Filter:
    field: Field
    operator: str
    value: str | tuple[str, ...]
    negated: bool = False
    quantifier: str | None = None  # "any" | "all"
    config: str | None = None  # full-text search configuration


@dataclass(frozen=True)
class Logic:
    operator: str  # "and" | "or"
    conditions: tuple[Condition, ...]
    negated: bool = False


Condition = Filter | Logic
SelectItem = Column | Star | Embed


@dataclass(frozen=True)
class OrderTerm:
    field: Field
    descending: bool = False
    nulls_first: bool | None = None


@dataclass(frozen=True)
class EmbedOptions:
    """Filters, order and paging that apply inside one embedded resource."""

    where: tuple[Condition, ...] = ()
    order: tuple[OrderTerm, ...] = ()
    limit: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class Request:
    select: tuple[SelectItem, ...] = (Star(),)
    where: tuple[Condition, ...] = ()
    order: tuple[OrderTerm, ...] = ()
    limit: int | None = None
    offset: int | None = None
    on_conflict: tuple[str, ...] = ()
    columns: tuple[str, ...] | None = None
    embedded: tuple[tuple[str, EmbedOptions], ...] = ()
    arguments: tuple[tuple[str, str], ...] = field(default=())  # GET /rpc arguments

    def options_for(self, label: str) -> EmbedOptions:
        return dict(self.embedded).get(label, EmbedOptions())

    @property
    def embeds(self) -> tuple[Embed, ...]:
        return tuple(item for item in self.select if isinstance(item, Embed))


def parse_request(pairs: list[tuple[str, str]], *,
                  argument_names: frozenset[str] = frozenset()) -> Request:
    """Parse a query string's (key, value) pairs; keys in ``argument_names`` are RPC arguments."""
    select: tuple[SelectItem, ...] = (Star(),)
    where: list[Condition] = []
    order: tuple[OrderTerm, ...] = ()
    limit = offset = None
    on_conflict: tuple[str, ...] = ()
    columns = None
    arguments: list[tuple[str, str]] = []
    embedded: dict[str, dict[str, object]] = {}
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise ParseError(key, f"the parameter {key!r} contains a NUL character",
                             "remove the \\0 byte from the query string")
        if key in argument_names:
            arguments.append((key, value))
        elif key == "select":
            select = parse_select(value)
        elif key == "order":
            order = parse_order(value, key)
        elif key in ("limit", "offset"):
            number = _non_negative_int(key, value)
            limit, offset = (number, offset) if key == "limit" else (limit, number)
        elif key == "on_conflict":
            on_conflict = tuple(_names(key, value))
        elif key == "columns":
            columns = tuple(_names(key, value))
        elif key == "apikey":
            continue
        elif key in LOGIC_KEYS:
            where.append(parse_logic(key, value))
        elif "." in key and not key.startswith('"'):
            label, _, rest = key.partition(".")
            options = embedded.setdefault(label, {"where": []})
            if rest == "order":
                options["order"] = parse_order(value, key)
            elif rest in ("limit", "offset"):
                options[rest] = _non_negative_int(key, value)
            elif rest in LOGIC_KEYS:
                options["where"].append(parse_logic(key, value))  # type: ignore[attr-defined]
            else:
                options["where"].append(parse_filter(key, rest, value))  # type: ignore[attr-defined]
        else:
            where.append(parse_filter(key, key, value))
    labels = {item.label for item in select if isinstance(item, Embed)}
    for label in embedded:
        if label not in labels:
            raise ParseError(f"{label}.*", f"'{label}' is not an embedded resource in this request",
                             f"add {label}(...) to select=, or remove the {label}.* parameters")
    return Request(select=select, where=tuple(where), order=order, limit=limit, offset=offset,
                   on_conflict=on_conflict, columns=columns, arguments=tuple(arguments),
                   embedded=tuple((label, EmbedOptions(
                       where=tuple(opts["where"]), order=opts.get("order", ()),  # type: ignore
                       limit=opts.get("limit"), offset=opts.get("offset")))  # type: ignore
                       for label, opts in embedded.items()))


def parse_select(text: str, *, depth: int = 0) -> tuple[SelectItem, ...]:
    """``"id,author:users(name),data->>k::int"`` → select items."""
    items: list[SelectItem] = []
    for part in split_top_level(text, ",", "select"):
        part = part.strip()
        if not part:
            raise ParseError("select", f'failed to parse select parameter ({text})',
                             "an empty item between commas")
        if part == "*":
            items.append(Star())
        elif part.startswith("..."):
            raise ParseError("select", f"failed to parse select parameter ({text})",
                             "spread embeds (...name()) are not supported by the kit stack")
        elif part.endswith(")") and "(" in part and not part.startswith('"'):
            if depth:
                raise ParseError("select", f"failed to parse select parameter ({text})",
                                 "only one level of embedded resources is supported")
            items.append(_parse_embed(part, text))
        else:
            items.append(_parse_column(part, text))
    return tuple(items)


def _parse_embed(part: str, whole: str) -> Embed:
    head, _, inner = part[:-1].partition("(")
    alias, name = _split_alias(head)
    name, *hints = name.split("!")
    inner_join = "inner" in hints
    other = [h for h in hints if h not in ("inner", "left")]
    if not name or len(other) > 1 or (name.endswith(")") and not alias):
        raise ParseError("select", f"failed to parse select parameter ({whole})",
                         f"bad embedded resource {part!r}")
    aggregate = name.lower() in ("count", "sum", "avg", "min", "max") and not inner.strip()
    if aggregate or (not name.replace("_", "").replace("-", "").isalnum() and not name.startswith('"')):
        raise ParseError("select", f"failed to parse select parameter ({whole})",
                         f"aggregates and functions ({part!r}) are not supported by the kit stack")
    items = parse_select(inner, depth=1) if inner.strip() else (Star(),)
    return Embed(_unquote(name), alias, other[0] if other else None, inner_join,
                 tuple(i for i in items if not isinstance(i, Embed)))


def _parse_column(part: str, whole: str) -> Column:
    cast = None
    if "::" in part:
        part, _, cast = part.rpartition("::")
        if not _CAST.match(cast):
            raise ParseError("select", f"failed to parse select parameter ({whole})",
                             f"bad cast type {cast!r}: use a type name such as text or int")
    alias, rest = _split_alias(part)
    if "(" in rest or ")" in rest:
        raise ParseError("select", f"failed to parse select parameter ({whole})",
                         f"aggregates and functions ({part!r}) are not supported by the kit stack")
    return Column(parse_field(rest, "select"), alias, cast)


def _split_alias(text: str) -> tuple[str | None, str]:
    if text.startswith('"'):
        return None, text
    index = text.find(":")
    if index == -1 or text[index:index + 2] == "::":
        return None, text
    alias = text[:index].strip()
    return (_unquote(alias) or None), text[index + 1:].strip()


def parse_field(text: str, parameter: str) -> Field:
    """``data->a->>0`` → ``Field("data", (("->", "a"), ("->>", "0")))``."""
    text = text.strip()
    parts = _ARROW.split(text)
    name = _unquote(parts[0].strip())
    if not name or (parts[0].strip() != "*" and "." in name and not parts[0].startswith('"')):
        raise ParseError(parameter, f"failed to parse column name {text!r} in {parameter}",
                         "a column name, optionally with ->key or ->>key JSON paths")
    path = []
    for arrow, key in zip(parts[1::2], parts[2::2]):
        key = _unquote(key.strip())
        if not key:
            raise ParseError(parameter, f"failed to parse JSON path {text!r} in {parameter}",
                             "a key is missing after -> or ->>")
        path.append((arrow, key))
    return Field(name, tuple(path))


def parse_order(text: str, parameter: str) -> tuple[OrderTerm, ...]:
    """``"a.desc.nullslast,b"`` → order terms."""
    terms = []
    for part in split_top_level(text, ",", parameter):
        if "(" in part:
            raise ParseError(parameter, f"failed to parse order ({text})",
                             "ordering by an embedded resource is not supported by the kit stack")
        pieces = part.strip().split(".")
        modifiers = pieces[1:]
        descending, nulls_first = False, None
        while modifiers and modifiers[-1] in ("asc", "desc", "nullsfirst", "nullslast"):
            flag = modifiers.pop()
            if flag in ("asc", "desc"):
                descending = flag == "desc"
            else:
                nulls_first = flag == "nullsfirst"
        if modifiers:
            raise ParseError(parameter, f"failed to parse order ({text})",
                             f"unknown modifier {'.'.join(modifiers)!r}: use asc, desc, "
                             "nullsfirst or nullslast")
        terms.append(OrderTerm(parse_field(pieces[0], parameter), descending, nulls_first))
    return tuple(terms)


def parse_filter(parameter: str, column: str, text: str) -> Filter:
    """``("age", "not.gte.18")`` → ``Filter(Field("age"), "gte", "18", negated=True)``."""
    negated = text.startswith("not.")
    body = text[4:] if negated else text
    operator, dot, value = body.partition(".")
    if not dot:
        raise ParseError(parameter, f"failed to parse filter ({parameter}={text})",
                         "a filter is <operator>.<value>, e.g. eq.1")
    return build_filter(parameter, f"{parameter}={text}", column, operator, value, negated)


def build_filter(parameter: str, whole: str, column: str, operator: str,
                 value: str | tuple[str, ...], negated: bool) -> Filter:
    """A checked ``Filter`` from its parts; ``operator`` may carry a modifier (``eq(any)``,
    ``fts(english)``); a str ``value`` of ``in`` is parsed as ``(a,b)``."""
    quantifier = config = None
    if operator.endswith(")") and "(" in operator:
        operator, _, modifier = operator[:-1].partition("(")
        if operator in FULL_TEXT:
            config = modifier
            if not _CAST.match(config) or config.endswith("]"):
                raise ParseError(parameter, f"failed to parse filter ({whole})",
                                 f"bad text search configuration {config!r}")
        elif operator in QUANTIFIABLE and modifier in ("any", "all"):
            quantifier = modifier
        else:
            raise ParseError(parameter, f"failed to parse filter ({whole})",
                             f"unknown modifier ({modifier}) for {operator}")
    if operator not in OPERATORS:
        raise ParseError(parameter, f"failed to parse filter ({whole})",
                         f"unknown operator {operator!r}; known: {', '.join(OPERATORS)}")
    field_ = parse_field(column, parameter)
    parsed = value
    if operator == "in":
        parsed = _parse_list(parameter, whole, value) if isinstance(value, str) else value
    elif isinstance(value, tuple):
        raise ParseError(parameter, f"failed to parse filter ({whole})",
                         f"{operator} takes one value, not a list")
    elif operator == "is":
        if value.lower() not in IS_VALUES:
            raise ParseError(parameter, f"failed to parse filter ({whole})",
                             f"is. takes one of {', '.join(IS_VALUES)}")
        parsed = value.lower()
    elif quantifier and not (value.startswith("{") and value.endswith("}")):
        raise ParseError(parameter, f"failed to parse filter ({whole})",
                         f"{operator}({quantifier}) takes a list in braces, e.g. {{a,b}}")
    if operator in ("like", "ilike") and isinstance(parsed, str):
        parsed = parsed.replace("*", "%")  # PostgREST accepts * for % (no URL escaping needed)
    return Filter(field_, operator, parsed, negated, quantifier, config)


def _parse_list(parameter: str, whole: str, value: str) -> tuple[str, ...]:
    if not (value.startswith("(") and value.endswith(")")):
        raise ParseError(parameter, f"failed to parse filter ({whole})",
                         "in. takes a list in parentheses, e.g. in.(1,2,3)")
    inner = value[1:-1]
    if not inner:
        return ()
    return tuple(_unquote(item) for item in split_top_level(inner, ",", parameter, parens=False))


def parse_logic(parameter: str, text: str) -> Logic:
    """``("or", "(a.eq.1,and(b.gt.2,c.is.null))")`` → a Logic tree (grammar: ``logic_tree``)."""
    negated = parameter.startswith("not.") or ".not." in parameter
    operator = parameter.rsplit(".", 1)[-1]
    try:
        items = scan_logic(text, max_depth=MAX_NESTING)
    except LogicSyntaxError as exc:
        raise ParseError(parameter, f"failed to parse logic tree ({text})", exc.detail) from None
    return Logic(operator if operator in ("and", "or") else "and",
                 tuple(_condition(parameter, text, item) for item in items), negated)


def _condition(parameter: str, text: str, item: Leaf | Group) -> Condition:
    if isinstance(item, Group):
        return Logic(item.operator, tuple(_condition(parameter, text, i) for i in item.items),
                     item.negated)
    try:
        return build_filter(parameter, f"{parameter}={text}", item.field, item.operator,
                            item.value, item.negated)
    except ParseError as exc:
        raise ParseError(parameter, f"failed to parse logic tree ({text})",
                         f"in the condition on {item.field!r}: {exc.details}") from None


def split_top_level(text: str, separator: str, parameter: str, *, parens: bool = True) -> list[str]:
    """Split on ``separator`` outside double quotes (and parentheses, when ``parens``)."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted, escaped = 0, False, False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and parens and char in "()":
            depth += 1 if char == "(" else -1
            if depth < 0:
                raise ParseError(parameter, f"unbalanced parentheses in {parameter}={text}",
                                 "a ')' has no matching '('")
        elif char == separator and not quoted and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted or depth:
        raise ParseError(parameter, f"unbalanced {'quotes' if quoted else 'parentheses'} in "
                                    f"{parameter}={text}", "close every \" and (")
    parts.append("".join(current))
    return parts


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _names(parameter: str, text: str) -> list[str]:
    names = [_unquote(n.strip()) for n in split_top_level(text, ",", parameter)]
    if not all(names):
        raise ParseError(parameter, f"failed to parse {parameter} ({text})",
                         "a comma-separated list of column names")
    return names


def _non_negative_int(parameter: str, text: str) -> int:
    if not text.isdigit() or not text.isascii() or int(text) > 2**62:
        raise ParseError(parameter, f"failed to parse {parameter} parameter ({text})",
                         f"{parameter} takes a non-negative integer")
    return int(text)
