"""A deterministic small PNG for capture and client tests."""

from __future__ import annotations

import io

from PIL import Image


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()
