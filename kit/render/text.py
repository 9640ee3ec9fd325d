"""Decode text bodies: UTF-8 when valid, else byte by byte with the invalid bytes located.

    >>> t = decode_text(b"caf\\xe9,1\\n")
    >>> t.encoding, t.invalid_offsets, t.text
    ('cp1252', (3,), 'café,1\\n')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DecodedText", "decode_text"]


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str                       # "utf-8", "cp1252" or "latin-1"
    invalid_offsets: tuple[int, ...]    # byte offsets that are not valid UTF-8
    segments: tuple[tuple[str, bool], ...]  # (text, is_invalid_utf8) runs, for marking


def decode_text(data: bytes) -> DecodedText:
    """Valid UTF-8 decodes as such; otherwise valid runs stay UTF-8 and each invalid byte is
    decoded as cp1252 (latin-1 where cp1252 has no character) and reported by offset."""
    try:
        text = data.decode("utf-8")
        return DecodedText(text, "utf-8", (), ((text, False),) if text else ())
    except UnicodeDecodeError:
        pass
    segments: list[tuple[str, bool]] = []
    offsets: list[int] = []
    encoding = "cp1252"
    position = 0
    while position < len(data):
        try:
            segments.append((data[position:].decode("utf-8"), False))
            break
        except UnicodeDecodeError as err:
            start, end = position + err.start, position + err.end
            if start > position:
                segments.append((data[position:start].decode("utf-8"), False))
            bad = data[start:end]
            try:
                shown = bad.decode("cp1252")
            except UnicodeDecodeError:
                shown, encoding = bad.decode("latin-1"), "latin-1"
            segments.append((shown, True))
            offsets.extend(range(start, end))
            position = end
    return DecodedText("".join(s for s, _ in segments), encoding, tuple(offsets), tuple(segments))


def looks_textual(data: bytes, sample: int = 4096) -> bool:
    """Text-like bytes: no NULs and few control characters in the first ``sample`` bytes."""
    head = data[:sample]
    if not head:
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12, 27))
    return controls <= len(head) // 100
