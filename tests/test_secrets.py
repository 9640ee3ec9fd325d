"""kit.secrets: one masking module for every view and export."""

from __future__ import annotations

from kit.secrets import JWT_PATTERN, MASK, MASKED_JWT, mask_bytes, mask_headers, mask_text, mask_url

JWT = ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoiYW5vbiJ9", "c2lnbmF0dXJlLWJ5dGVz"])  # fake


def test_jwt_anywhere_in_text_is_masked() -> None:
    text = f"token {JWT} in a sentence and <p>{JWT}</p>"
    masked = mask_text(text)
    assert JWT_PATTERN.search(masked) is None
    assert masked.count(MASKED_JWT) == 2


def test_query_strings_json_fields_and_header_lines() -> None:
    assert mask_text("https://x/o?token=abc123&download=1") == f"https://x/o?token={MASK}&download=1"
    assert mask_text('{"refresh_token": "r-123", "user": "u"}') == \
        f'{{"refresh_token": "{MASK}", "user": "u"}}'
    assert mask_text("apikey: sb_secret_abcdefghijklmnop") == f"apikey: {MASK}"
    assert mask_text("password=hunter22&x=1") == f"password={MASK}&x=1"


def test_known_opaque_values_and_headers() -> None:
    assert mask_text("key is plainsecretvalue!", known=["plainsecretvalue!"]) == f"key is {MASK}"
    headers = mask_headers([("apikey", JWT), ("Authorization", f"Bearer {JWT}"),
                            ("Cookie", "sb=1"), ("Accept", "application/json")])
    assert headers == [("apikey", MASK), ("Authorization", f"Bearer {MASK}"), ("Cookie", MASK),
                       ("Accept", "application/json")]


def test_bytes_masking() -> None:
    assert JWT.encode() not in mask_bytes(b"\x00\x01" + JWT.encode() + b"\xff")


def test_mask_url_hides_a_password_in_the_url():
    assert mask_url("postgresql://postgres:pw-123@127.0.0.1:54322/postgres") == (
        "postgresql://postgres:[masked]@127.0.0.1:54322/postgres")
    assert mask_url("https://abcd.supabase.co/rest/v1/") == "https://abcd.supabase.co/rest/v1/"


def test_the_quick_presence_words_cover_every_secret_name() -> None:
    from kit.secrets import _FIELD_WORDS, _HEADER_WORDS, SECRET_FIELDS, SECRET_HEADERS

    assert all(any(w in name for w in _FIELD_WORDS) for name in SECRET_FIELDS)
    assert all(any(w in name for w in _HEADER_WORDS) for name in SECRET_HEADERS)
    assert mask_text('{"Refresh_Token": "abc"}') == '{"Refresh_Token": "[masked]"}'
    assert mask_text("X-Api-Key: abc\nok") == "X-Api-Key: [masked]\nok"
