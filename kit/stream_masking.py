"""Masking a body chunk by chunk, with the result ``kit.secrets`` gives on the whole body.

    masker = TextMasker(known)             # BytesMasker(known) for a body exported as base64
    for chunk in chunks:                   # str chunks (bytes for BytesMasker), any sizes
        out.write(masker.feed(chunk))      # the masked text that is final so far
    out.write(masker.finish())
    # "".join(those pieces) == mask_text(whole, known); BytesMasker: == mask_bytes(whole, known)

How: one linear pass of RE2 (google-re2) finds every place where a rule of ``kit.secrets``
could start: a quoted secret field name (``"access_token"``), ``name=`` after ``?&;#`` or a
space, a secret header name at a line start, ``eyJ``, ``sb_``, a known secret. The pass is a
superset of Python's rules (it matches their IGNORECASE and ``\\s`` sets, checked by
tests/test_stream_masking.py). Where it finds one, the rule itself (``kit.secrets``' own
``re`` pattern) says where the secret ends; the masked window goes through ``mask_text``.
Text with no rule start is passed on untouched, so a body costs one RE2 pass (~2 ms/MB).

A chunk's end is held back until no rule can span it: the last 32 characters (or the longest
known secret), and any secret still open (``"token": "eyJ...`` whose value has not ended,
``cookie:`` on a line that goes on); memory stays near one chunk unless one secret is longer.
Every window is masked with a one-character stand-in for the character before it, so rules
that look back (``^``, ``\\b``) see what they would see in the whole body.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterable
from typing import Generic, TypeVar

import re2

from kit import secrets
from kit.secrets import MASK, mask_bytes, mask_text

__all__ = ["BytesMasker", "TextMasker"]

# Python's re with IGNORECASE on str also matches these characters for these ASCII letters,
# and matches these characters with \s (tests check both tables against re itself).
CASE_EXTRAS = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}
PY_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005" \
            "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_OPEN = sys.maxsize  # the end of a secret that has not ended yet
_MIN_HOLD = 32  # longer than any rule's start: '"provider_refresh_token"' is 24 characters

AnyStr = TypeVar("AnyStr", str, bytes)


def _ignorecase(name: str) -> str:
    """RE2 syntax matching ``name`` as Python's re does with IGNORECASE on str."""
    return "".join(f"[{c}{c.upper()}{CASE_EXTRAS.get(c, '')}]" if c.isalpha() else re2.escape(c)
                   for c in name.lower())


def _re2_class(chars: str) -> str:
    return "".join(f"\\x{{{ord(c):x}}}" for c in chars)


_FIELDS = "|".join(_ignorecase(n) for n in secrets.SECRET_FIELDS)
_HEADERS = "|".join(_ignorecase(n) for n in sorted(secrets.SECRET_HEADERS))
# Starts only: a longer hit (a whole JSON field) would swallow a start that kit.secrets' scan
# does see (a field's opening quote can sit inside a value that is never matched as one).
_TEXT_STARTS = (f'"(?:{_FIELDS})"'                                   # JSON_FIELD
                f"|(?:^|[?&;#{_re2_class(PY_SPACES)}])(?:{_FIELDS})="  # QUERY_FIELD
                f"|(?m:^)(?:{_HEADERS})"                               # HEADER_LINE
                "|eyJ|sb_")                                            # JWT, opaque keys
_NAMES = "|".join(secrets.SECRET_FIELDS)
# A rule that matched its start and then ran to the end of the text so far: still open.
_JSON_OPEN = re.compile(r'"(?:' + _NAMES + r')"\s*(?::\s*(?:"(?:[^"\\]|\\.)*\\?)?)?\Z', re.IGNORECASE)
_JSON_START = re.compile(r'"(?:' + _NAMES + r')"\s*:\s*"', re.IGNORECASE)
_HEADER_OPEN = re.compile(r"^(?:" + "|".join(secrets.SECRET_HEADERS) + r")\s*(?::\s*)?\Z",
                          re.IGNORECASE | re.MULTILINE)
_TOKEN_OPEN = re.compile(r"(?:eyJ|sb_)[A-Za-z0-9_.-]*\Z")
_TOKEN_OPEN_BYTES = re.compile(_TOKEN_OPEN.pattern.encode())
# kit.secrets' opaque-key rule without its \b: a key right after a masked secret still counts.
_OPAQUE_ANYWHERE = re.compile(secrets.OPAQUE_KEY.pattern.removeprefix(r"\b"))
_OPAQUE_ANYWHERE_BYTES = re.compile(_OPAQUE_ANYWHERE.pattern.encode())
_WORD = re.compile(r"\w")
_WORD_BYTES = re.compile(rb"\w")


def _long_enough(known: Iterable[str]) -> tuple[str, ...]:
    """The known secrets ``kit.secrets`` replaces (8 characters or more), longest first."""
    return tuple(sorted({k for k in known if k and len(k) >= 8}, key=len, reverse=True))


# Known secrets may overlap anything, so they are looked for in a pass of their own; of the rule
# starts, only a quoted name can overlap the next one (its closing quote opens '"password"token"').
_TEXT_FINDER = re2.compile(_TEXT_STARTS.encode())
_BYTES_OPTIONS = re2.Options()
_BYTES_OPTIONS.encoding = re2.Options.Encoding.LATIN1
_BYTES_FINDER = re2.compile(b"eyJ|sb_", _BYTES_OPTIONS)


@functools.lru_cache(maxsize=32)
def _known_finder(known: tuple[bytes, ...]) -> re2._Regexp:
    return re2.compile(b"|".join(re.escape(k) for k in known), _BYTES_OPTIONS)


def _finders(known: tuple[bytes, ...], starts: re2._Regexp) -> tuple[re2._Regexp, ...]:
    # A secret that starts with eyJ or sb_ (Supabase's keys) is found by that start already.
    others = tuple(k for k in known if not k.startswith((b"eyJ", b"sb_")))
    return (starts, _known_finder(others)) if others else (starts,)


def _find(finders: tuple[re2._Regexp, ...], data: bytes, pos: int) -> list[int]:
    found = []
    for finder in finders:
        for match in finder.finditer(data, pos):
            found.append(match.start())
            end = match.end()
            while data[end - 1:end] == b'"' and data[end:end + 1].isalpha() \
                    and (match := finder.match(data, end - 1)):
                found.append(end - 1)
                end = match.end()
    return sorted(set(found))


class _Masker(Generic[AnyStr]):
    """The streaming engine; TextMasker and BytesMasker say how to find, measure and mask."""

    _empty: AnyStr

    def __init__(self, known: tuple[AnyStr, ...]) -> None:
        self._known: tuple[AnyStr, ...] = known
        self._hold = max([_MIN_HOLD] + [len(k) + 1 for k in known])
        self._prev: AnyStr = self._empty  # the last character given out: the context of what follows
        self._buf: AnyStr = self._empty

    def feed(self, data: AnyStr) -> AnyStr:
        """Take the next chunk; return the masked text that no later chunk can change."""
        self._buf += data
        if len(self._buf) <= 4 * self._hold:
            return self._empty
        return self._give(final=False)

    def finish(self) -> AnyStr:
        """The rest, masked (the body has ended)."""
        return self._give(final=True)

    def _give(self, final: bool) -> AnyStr:
        text = self._prev + self._buf
        base = len(self._prev)
        cut = len(text) if final else len(text) - self._hold
        spans = [(start, end) for start in self._starts(text, base)
                 if (end := self._end(text, start, final)) is not None]
        for start, end in reversed(spans):  # the cut moves before any secret that spans or ends at it
            if start < cut < end or (start < cut == end and not final):
                cut = start
        if cut <= base:
            return self._empty
        pieces, done = [], base
        for start, end in _windows(spans, cut):
            pieces += [text[done:start], self._mask(text, start, end)]
            done = end
        pieces.append(text[done:cut])
        self._prev, self._buf = text[cut - 1:cut], text[cut:]
        return self._empty.join(pieces)

    def _starts(self, text: AnyStr, base: int) -> list[int]:
        raise NotImplementedError

    def _end(self, text: AnyStr, start: int, final: bool) -> int | None:
        raise NotImplementedError

    def _mask(self, text: AnyStr, start: int, end: int) -> AnyStr:
        raise NotImplementedError


def _windows(spans: list[tuple[int, int]], cut: int) -> list[tuple[int, int]]:
    """Spans before ``cut`` merged where they overlap or touch (one masked after the other)."""
    windows: list[tuple[int, int]] = []
    for start, end in spans:
        if start >= cut:
            break
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def _stand_in(before: AnyStr, word: re.Pattern[AnyStr]) -> AnyStr:
    """A character that looks like ``before`` to ``^`` and ``\\b`` but starts no rule itself."""
    if not before:
        return before  # the body's first character: nothing before it
    newline, letter, other = ("\n", "Z", ",") if isinstance(before, str) else (b"\n", b"Z", b",")
    return newline if before == newline else letter if word.match(before) else other


def _replace_known(window: AnyStr, known: tuple[AnyStr, ...], mask: AnyStr) -> AnyStr:
    for secret in known:
        if secret in window:
            window = window.replace(secret, mask)
    return window


# Which of kit.secrets' rules can match at a start, by its first character (a rule start the
# finder reports begins with '"', a space or ?&;#, 'e' of eyJ, 's' of sb_, or a header name).
_HEADER_RULE = (secrets.HEADER_LINE, _HEADER_OPEN)
_QUERY_RULE = (secrets.QUERY_FIELD, None)
_OTHER_RULES = (_QUERY_RULE, _HEADER_RULE)
_TEXT_RULES = {'"': ((secrets.JSON_FIELD, _JSON_OPEN),),
               "e": ((secrets.JWT_PATTERN, _TOKEN_OPEN), _QUERY_RULE, _HEADER_RULE),
               "s": ((_OPAQUE_ANYWHERE, _TOKEN_OPEN), _QUERY_RULE, _HEADER_RULE),
               **{c: (_QUERY_RULE,) for c in PY_SPACES + "?&;#"}}


class TextMasker(_Masker[str]):
    """``mask_text(whole, known)``, given the text chunk by chunk (see the module's docstring)."""

    _empty = ""

    def __init__(self, known: Iterable[str] = ()) -> None:
        super().__init__(_long_enough(known))
        self._finders = _finders(tuple(k.encode() for k in self._known), _TEXT_FINDER)

    def _starts(self, text: str, base: int) -> list[int]:
        data = text.encode()
        offsets = _find(self._finders, data, base if text.isascii() else len(text[:base].encode()))
        if text.isascii() or not offsets:
            return offsets
        starts, chars, last = [], 0, 0  # byte offsets to character offsets, in one pass
        for offset in offsets:
            chars += len(data[last:offset].decode())
            starts.append(chars)
            last = offset
        return starts

    def _end(self, text: str, start: int, final: bool) -> int | None:
        ends = [start + len(k) for k in self._known if text.startswith(k, start)]
        for rule, still_open in _TEXT_RULES.get(text[start], _OTHER_RULES):
            match = rule.match(text, start)
            if match:
                ends.append(_line_end(text, match) if rule is secrets.HEADER_LINE else match.end())
            elif not final and still_open is not None and still_open.match(text, start):
                return _OPEN
        return _settled(ends, len(text), final)

    def _mask(self, text: str, start: int, end: int) -> str:
        context = _stand_in(text[start - 1:start], _WORD)
        window = _replace_known(text[start:end], self._known, MASK)
        return mask_text(context + window)[len(context):]


class BytesMasker(_Masker[bytes]):
    """``mask_bytes(whole, known)``, given the bytes chunk by chunk (bodies exported as base64)."""

    _empty = b""

    def __init__(self, known: Iterable[str] = ()) -> None:
        super().__init__(tuple(k.encode() for k in _long_enough(known)))
        self._finders = _finders(self._known, _BYTES_FINDER)

    def _starts(self, text: bytes, base: int) -> list[int]:
        return _find(self._finders, text, base)

    def _end(self, text: bytes, start: int, final: bool) -> int | None:
        ends = [start + len(k) for k in self._known if text.startswith(k, start)]
        for rule in (secrets.JWT_BYTES, _OPAQUE_ANYWHERE_BYTES):
            match = rule.match(text, start)
            if match:
                ends.append(match.end())
            elif not final and _TOKEN_OPEN_BYTES.match(text, start):
                return _OPEN
        return _settled(ends, len(text), final)

    def _mask(self, text: bytes, start: int, end: int) -> bytes:
        context = _stand_in(text[start - 1:start], _WORD_BYTES)
        window = _replace_known(text[start:end], self._known, MASK.encode())
        return mask_bytes(context + window)[len(context):]


def _line_end(text: str, header: re.Match[str]) -> int:
    """Where a secret header's line ends once kit.secrets has masked the JSON values in it: a
    newline inside a masked value is gone, so the line (and the header's value) goes on."""
    end = header.end()
    head = header.start()
    while (field := _JSON_START.search(text, head, end)) is not None:
        value = secrets.JSON_FIELD.match(text, field.start())
        if value is None:
            head = field.end()
            continue
        if value.start(2) <= end < value.end(2):
            newline = text.find("\n", value.end())
            end = newline if newline >= 0 else len(text)
        head = value.end()
    return end


def _settled(ends: list[int], length: int, final: bool) -> int | None:
    """The furthest end; a rule that reached the end of the text so far may still go on."""
    if not ends:
        return None
    end = max(ends)
    return _OPEN if end >= length and not final else end
