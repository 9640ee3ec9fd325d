"""kit.stream_masking: chunk by chunk, the same masking as kit.secrets on the whole text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kit.secrets import MASK, MASKED_JWT, mask_bytes, mask_text
from kit.stream_masking import CASE_EXTRAS, PY_SPACES, BytesMasker, TextMasker

# built at run time: no JWT-shaped literal in the repository
JWT = ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoic2VydmljZV9yb2xlIn0", "c2lnbmF0dXJlLWJ5dGVz"])
KNOWN = "opaque-known-value-42"
# Pieces of the kinds the rules care about, mixed with what sits around them in real bodies.
PIECES = ['"token": "', '"access_token":"', '"Refresh_Token" : "', JWT, "sb_secret_abcdefghij",
          "sb_", "eyJ", "\n", " ", "\t", "?", "&", "#", "token=", "password=", "apikey: ",
          "Cookie:", "set-cookie :", '"', "\\", '\\"', ",", "{", "}", ":", "=", KNOWN, "x", "Z",
          "abc", "é", "İ", "\u212a", "ſ", "\xa0", "\u2028", "\x00", "€", "api_key_id"]


def _chunked(masker: TextMasker | BytesMasker, data, cuts: list[int]):  # noqa: ANN001, ANN202
    pieces, last = [], 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        pieces.append(masker.feed(data[last:cut]))
        last = cut
    pieces.append(masker.feed(data[last:]))
    pieces.append(masker.finish())
    return type(data)().join(pieces)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=80), st.lists(st.integers(0, 10_000), max_size=6))
def test_any_chunking_masks_exactly_like_the_whole_text(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    known = [KNOWN, "short", "sb_secret_abcdefghij"]  # the last is found by its start, sb_
    assert _chunked(TextMasker(known), text, cuts) == mask_text(text, known)
    data = text.encode()
    assert _chunked(BytesMasker(known), data, cuts) == mask_bytes(data, known)


def test_a_secret_across_a_chunk_boundary_is_masked() -> None:
    filler = "lorem ipsum " * 20
    cases = [(f"{filler}Bearer {JWT} end", MASKED_JWT), (f'{filler}{{"password": "hunter2-{filler}"}}', MASK),
             (f"{filler}{KNOWN}!", MASK), (f"{filler}\ncookie: session={filler}\nnext", MASK),
             (f"{filler}?x=1&refresh_token=r-{filler}&y=2", MASK)]
    for text, mask in cases:
        for cut in range(len(filler) - 2, len(text), 7):  # every place around the secret
            masked = _chunked(TextMasker([KNOWN]), text, [cut])
            assert masked == mask_text(text, [KNOWN]) and mask in masked
            assert JWT not in masked and KNOWN not in masked and "hunter2" not in masked
    binary = b"\x00\xff" * 300 + JWT.encode() + b"\x01" + KNOWN.encode()
    for cut in range(590, len(binary), 5):
        masked = _chunked(BytesMasker([KNOWN]), binary, [cut])
        assert masked == mask_bytes(binary, [KNOWN]) and JWT.encode() not in masked


def test_memory_stays_near_one_chunk_and_an_open_secret_is_held_whole() -> None:
    masker = TextMasker()
    out = [masker.feed("plain text, " * 10_000) for _ in range(50)]
    assert len(masker._buf) < 100 and sum(map(len, out)) > 5_000_000
    head = masker.feed('"token": "' + "v" * 300_000)  # the value has not ended: none of it is given out
    assert "v" not in head + masker.feed("v" * 100_000)
    rest = head + masker.feed('" and more' + " " * 200) + masker.finish()
    assert rest.endswith(f'plain text, "token": "[masked]" and more{" " * 200}') and len(rest) < 500


def test_rule_start_tables_match_pythons_re() -> None:
    every = "".join(map(chr, range(0x10000)))  # no character above the BMP folds to ASCII or is a space
    assert set(re.findall(r"\s", every)) == set(PY_SPACES)
    for letter in "abcdefghijklmnopqrstuvwxyz":
        folded = set(re.findall(letter, every, re.IGNORECASE)) - {letter, letter.upper()}
        assert folded == set(CASE_EXTRAS.get(letter, ""))
