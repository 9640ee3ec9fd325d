"""Secrets never reach report files: parameters stripped, outputs masked."""

from __future__ import annotations

import html
import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from kit.report.scrub import (
    REMOVED,
    looks_secret,
    scrub_notebook,
    scrub_parameters,
    scrub_text,
    secret_parameter,
)

JWT = ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoic2VydmljZV9yb2xlIn0", "c2lnbmF0dXJl"])  # fake
OPAQUE = "plain-looking-key-<&>\"quoted\""


def test_what_looks_secret() -> None:
    assert looks_secret(JWT) and looks_secret("sb_secret_abcdefghijkl")
    assert looks_secret("postgresql://user:pw@host/db")
    assert not looks_secret("SUPABASE_SERVICE_ROLE_KEY") and not looks_secret(42)
    assert secret_parameter("service_key", "abc") and secret_parameter("anything", JWT)
    assert not secret_parameter("key_env", "SUPABASE_SERVICE_ROLE_KEY")
    assert not secret_parameter("token", "") and not secret_parameter("concurrency", 8)


def test_scrub_parameters_keeps_env_names_and_strips_secrets() -> None:
    assert scrub_parameters({"target": "embedded", "key_env": "SUPABASE_SERVICE_ROLE_KEY",
                             "api_token": "t0k3n", "url": JWT, "n": 3}) == {
        "target": "embedded", "key_env": "SUPABASE_SERVICE_ROLE_KEY", "api_token": REMOVED,
        "url": REMOVED, "n": 3}


def test_scrub_text_masks_known_secrets_raw_json_and_html_escaped() -> None:
    text = f"{OPAQUE} {json.dumps(OPAQUE)} {html.escape(OPAQUE)} bearer {JWT}"
    cleaned = scrub_text(text, [OPAQUE])
    assert "plain-looking-key" not in cleaned and "eyJ" not in cleaned
    assert cleaned.count("[masked]") == 3 and "[masked-jwt]" in cleaned


def test_scrub_notebook_cleans_injected_parameters_metadata_and_outputs() -> None:
    injected = new_code_cell(f'# Parameters\ntarget = "embedded"\napi_token = "t0k3n-value"\n'
                             f'key_env = "SUPABASE_SERVICE_ROLE_KEY"\nurl = "{JWT}"\n',
                             metadata={"tags": ["injected-parameters"]})
    printing = new_code_cell("print(key)", outputs=[
        new_output("stream", name="stdout", text=f"key {OPAQUE}\n"),
        new_output("display_data", data={"text/html": f"<b>{html.escape(OPAQUE)}</b>",
                                         "text/plain": JWT})])
    nb = new_notebook(cells=[injected, printing])
    nb.metadata["papermill"] = {"parameters": {"api_token": "t0k3n-value", "target": "embedded"},
                                "environment_variables": {"SECRET": "x"}}
    scrub_notebook(nb, [OPAQUE])
    text = nbformat.writes(nb)
    for secret in ("t0k3n-value", "plain-looking-key", JWT):
        assert secret not in text
    assert "api_token = '[secret removed]'" in nb.cells[0].source
    assert 'key_env = "SUPABASE_SERVICE_ROLE_KEY"' in nb.cells[0].source
    assert nb.metadata["papermill"]["parameters"] == {"api_token": REMOVED, "target": "embedded"}
    assert nb.metadata["papermill"]["environment_variables"] == {"SECRET": REMOVED}
    nbformat.validate(nb)
