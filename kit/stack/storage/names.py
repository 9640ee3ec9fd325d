"""Pure checks on what a request names: bucket ids, object keys, MIME types, size limits.

Keys follow the real service's rule (S3-safe ASCII characters only) plus the kit's own
safety rules: no empty, ``.`` or ``..`` segments (so no absolute or traversing path),
no NUL, segments of at most 255 bytes. Bytes are stored under the object's version id,
never under its name, so a name never becomes a filesystem path.

    >>> check_key("folder/cat.png")
    'folder/cat.png'
    >>> check_key("../etc/passwd")
    Traceback (most recent call last):
    ...
    kit.stack.storage.problems.StorageProblem: 400 InvalidKey: Invalid key: '../etc/passwd' (...)
"""

from __future__ import annotations

import re

from kit.stack.storage import problems

# \w is ASCII here, as in the service's JavaScript regex (no `u` flag)
_KEY_CHARS = re.compile(r"[A-Za-z0-9_/!\-.*'() &$@=;:+,?]*", re.ASCII)
_BUCKET_CHARS = re.compile(r"[A-Za-z0-9_!\-.*'() &$@=;:+,?]+", re.ASCII)
MAX_SEGMENT_BYTES = 255
MAX_KEY_BYTES = 1024
GLOBAL_FILE_SIZE_LIMIT = 50 * 1024 * 1024  # a Supabase project's default upload limit
_SIZE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(gb|mb|kb|b)$", re.IGNORECASE)
_UNITS = {"gb": 1e9, "mb": 1e6, "kb": 1e3, "b": 1}


def check_key(key: str) -> str:
    """The key itself when it is a safe object name; ``StorageProblem`` (InvalidKey) otherwise."""
    if not key:
        raise problems.invalid_key(key, "empty name; give a path such as folder/file.png")
    if "\x00" in key:
        raise problems.invalid_key(key.replace("\x00", "\\0"), "NUL byte in the name; remove it")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise problems.invalid_key(key, f"longer than {MAX_KEY_BYTES} bytes; shorten it")
    if not _KEY_CHARS.fullmatch(key):
        bad = next(ch for ch in key if not _KEY_CHARS.fullmatch(ch))
        raise problems.invalid_key(key, f"character {bad!r} is not allowed; use letters, digits "
                                        "and !-_.*'()&$@=;:+,? space or /")
    for segment in key.split("/"):
        if segment == "":
            raise problems.invalid_key(key, "empty path segment (leading, trailing or double /); "
                                            "use a relative path like folder/file.png")
        if segment in (".", ".."):
            raise problems.invalid_key(key, f"'{segment}' segment; object names cannot "
                                            "navigate folders")
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            raise problems.invalid_key(key, f"a segment is longer than {MAX_SEGMENT_BYTES} bytes")
    return key


def check_bucket_name(name: str) -> str:
    """The bucket id when valid (1–63 S3-safe characters, no slash); InvalidBucketName otherwise."""
    if not (0 < len(name) < 64) or not _BUCKET_CHARS.fullmatch(name) or name in (".", ".."):
        raise problems.invalid_bucket_name(name)
    return name


def essence(mime_type: str) -> str:
    """``'Text/Plain; charset=UTF-8'`` → ``'text/plain'``."""
    return mime_type.split(";", 1)[0].strip().lower()


def mime_allowed(mime_type: str, allowed: list[str] | None) -> bool:
    """Whether a bucket's ``allowed_mime_types`` (exact or ``type/*``) admit ``mime_type``."""
    if not allowed:
        return True
    kind, _, sub = essence(mime_type).partition("/")
    if not kind or not sub:
        return False
    for pattern in allowed:
        want_kind, _, want_sub = essence(pattern).partition("/")
        if want_kind == kind and want_sub in ("*", sub):
            return True
    return False


def parse_size_limit(value: object) -> int | None:
    """A bucket's ``file_size_limit``: bytes as an int, or ``"20MB"``-style text; None for no limit."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise problems.invalid_request("file_size_limit must be a number of bytes or text like 20MB")
    if isinstance(value, (int, float)):
        if value < 0 or value != int(value):
            raise problems.invalid_request("file_size_limit must be a whole number of bytes >= 0")
        return int(value) or None
    match = _SIZE.match(str(value).strip())
    if not match:
        raise problems.invalid_request("Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()]) or None


def upload_limit(bucket_limit: int | None) -> int:
    """The most bytes one upload may carry: the bucket's limit, capped by the global one."""
    return min(bucket_limit, GLOBAL_FILE_SIZE_LIMIT) if bucket_limit else GLOBAL_FILE_SIZE_LIMIT
