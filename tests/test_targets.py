"""kit.target / kit.check_target: one clear TargetError naming the variable and the fix."""

from __future__ import annotations

import json
import socket
import time

import jwt
import pytest
from edge_server import edge_url  # noqa: F401  (fixture)

import kit
from kit.targets import Target, target_from_cli_status


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_embedded_target_reuses_the_running_stack(stack: Target, stack_dir) -> None:
    again = kit.target("embedded", data_dir=stack_dir)
    assert again.url == stack.url and again.kind == "embedded"


def test_remote_target_from_env_checks_the_key(stack: Target) -> None:
    env = {"PROD_URL": stack.url + "/", "PROD_KEY": stack.service_role_key or "",
           "PROD_ANON": stack.anon_key}
    t = kit.target("remote", url_env="PROD_URL", key_env="PROD_KEY", anon_key_env="PROD_ANON",
                   env=env)
    assert (t.url, t.service_role_key, t.anon_key) == (stack.url, stack.service_role_key,
                                                       stack.anon_key)
    assert repr(t) == f"<Target remote {stack.url}>" and stack.anon_key not in str(t.describe())


@pytest.mark.parametrize(("env", "message"), [
    ({}, r"^SUPABASE_URL is not set. Fix: export SUPABASE_URL=https://<project-ref>"),
    ({"SUPABASE_URL": "htp://x", "SUPABASE_KEY": "k"}, r"^SUPABASE_URL is not an http\(s\) URL"),
    ({"SUPABASE_URL": "https://x.supabase.co/rest/v1", "SUPABASE_KEY": "k"},
     r"^SUPABASE_URL ends with /rest/v1. Fix: set SUPABASE_URL to the project URL without"),
    ({"SUPABASE_URL": "eyJhbGciOi.eyJx.y"}, r"^SUPABASE_URL holds a key, not a URL"),
    ({"SUPABASE_URL": "https://x.supabase.co"},
     r"^SUPABASE_SERVICE_ROLE_KEY is not set. Fix: export SUPABASE_SERVICE_ROLE_KEY=.* or set "
     r"SUPABASE_ANON_KEY"),
    ({"SUPABASE_URL": "https://x.supabase.co", "SUPABASE_KEY": "my-key"},
     r"^SUPABASE_KEY does not hold a Supabase key \(6 characters"),
])
def test_bad_configuration_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(kit.TargetError, match=message):
        kit.target("remote", env=env)


def test_expired_key_is_refused_before_any_request() -> None:
    key = jwt.encode({"role": "anon", "exp": int(time.time()) - 60}, "s" * 32, algorithm="HS256")
    with pytest.raises(kit.TargetError, match=r"^the key in SUPABASE_KEY expired at .*Fix: copy"):
        kit.target("remote", env={"SUPABASE_URL": "https://x.supabase.co", "SUPABASE_KEY": key})


def test_refused_connection(stack: Target) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(kit.TargetError, match=rf"^cannot connect to {url} \(from env API_URL\)"
                                              r": ConnectError. Fix: start it with `supabase start`"):
        kit.target("local", env={"API_URL": url, "ANON_KEY": stack.anon_key})


def test_each_kind_reads_its_documented_names(stack: Target) -> None:
    """local: what `supabase status -o env` exports; remote: the hosted names, SUPABASE_KEY too."""
    local = kit.target("local", env={"API_URL": stack.url, "SERVICE_ROLE_KEY": stack.service_role_key,
                                     "ANON_KEY": stack.anon_key, "DB_URL": "postgresql://x/y"})
    assert (local.service_role_key, local.anon_key, local.database_url, local.key_source) == (
        stack.service_role_key, stack.anon_key, "postgresql://x/y", "env SERVICE_ROLE_KEY")
    remote = kit.target("remote", env={"SUPABASE_URL": stack.url, "SUPABASE_KEY": stack.anon_key,
                                       "SUPABASE_DB_URL": "postgresql://a/b"})
    assert (remote.anon_key, remote.service_role_key, remote.key_source, remote.database_url) == (
        stack.anon_key, None, "env SUPABASE_KEY", "postgresql://a/b")
    assert kit.env_names("local").url == "API_URL"
    assert kit.env_names("remote", key_env="MINE").any_key is None


def test_wrong_key_is_rejected_by_one_request(stack: Target) -> None:
    other = jwt.encode({"role": "service_role"}, "another-project-secret-0123456789",
                       algorithm="HS256")
    with pytest.raises(kit.TargetError, match=r"rejected the key from env MY_KEY \(HTTP 401: "
                                              r"Invalid API key\). Fix: put .* in MY_KEY"):
        kit.target("remote", key_env="MY_KEY", env={"SUPABASE_URL": stack.url, "MY_KEY": other})


def test_a_url_that_serves_html_is_not_the_api(edge_url: str) -> None:  # noqa: F811
    key = jwt.encode({"role": "anon"}, "s" * 32, algorithm="HS256")
    with pytest.raises(kit.TargetError, match=r"answered HTTP 200 with an HTML page, not the "
                                              r"Supabase API. Fix: set env SUPABASE_URL"):
        kit.target("remote", env={"SUPABASE_URL": edge_url, "SUPABASE_KEY": key})


def test_supabase_cli_status_output() -> None:
    anon = jwt.encode({"role": "anon"}, "s" * 32, algorithm="HS256")
    out = "Stopped services: [imgproxy]\n" + json.dumps({
        "API_URL": "http://127.0.0.1:54321", "ANON_KEY": anon, "SERVICE_ROLE_KEY": "sb_secret_x",
        "DB_URL": "postgresql://postgres:postgres@127.0.0.1:54322/postgres"})
    t = target_from_cli_status(out)
    assert (t.kind, t.url, t.anon_key, t.key_source) == ("local", "http://127.0.0.1:54321", anon,
                                                        "`supabase status`")
    with pytest.raises(kit.TargetError, match="printed no JSON"):
        target_from_cli_status("not running")


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(kit.UsageError, match="use one of: 'embedded', 'local', 'remote'"):
        kit.target("cloud")  # type: ignore[arg-type]
