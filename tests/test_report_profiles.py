"""Report profiles: the shipped ones load, bad ones get one line naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.report.profiles import (
    PROFILE_DIR,
    ProfileError,
    known_profiles,
    load_profile,
    parse_profile,
    select_notebooks,
)

JWT = ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoic2VydmljZV9yb2xlIn0", "c2lnbmF0dXJl"])  # fake


def test_shipped_profiles_load_and_name_env_vars_not_keys() -> None:
    assert {"embedded", "local", "remote"} <= set(known_profiles())
    for name in known_profiles():  # every shipped profile parses
        assert load_profile(name).name == name
    embedded = load_profile("embedded")
    assert (embedded.target, embedded.url_env, embedded.key_env, embedded.jobs) == (
        "embedded", "SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", 2)
    assert embedded.source == PROFILE_DIR / "embedded.yaml"
    remote = load_profile("remote")
    assert remote.target == "remote" and remote.jobs == 1
    assert [s.path.name for s in remote.notebooks][:2] == ["00_start_here.ipynb",
                                                         "01_storage_download.ipynb"]
    assert remote.notebooks[1].parameters == {"concurrency": 2}
    assert load_profile("local").url_env == "API_URL"


def test_target_parameters_are_names_of_env_vars() -> None:
    profile = parse_profile("target: remote\nanon_key_env: ANON\nnotebooks: []", name="p")
    assert profile.target_parameters() == {"target": "remote", "url_env": "SUPABASE_URL",
                                           "key_env": "SUPABASE_SERVICE_ROLE_KEY",
                                           "anon_key_env": "ANON", "db_url_env": "SUPABASE_DB_URL"}
    local = parse_profile("target: local\nnotebooks: []", name="l").target_parameters()
    assert local == {"target": "local", "url_env": "API_URL", "key_env": "SERVICE_ROLE_KEY",
                     "anon_key_env": "ANON_KEY", "db_url_env": "DB_URL"}


def test_unknown_profile_name_lists_known_profiles_in_one_line() -> None:
    with pytest.raises(ProfileError) as err:
        load_profile("nightly")
    known = ", ".join(known_profiles())
    assert str(err.value) == f"unknown profile 'nightly'; known profiles: {known}"


def test_profile_file_by_path_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "nbs").mkdir()
    (tmp_path / "nbs" / "b.ipynb").write_text("{}")
    (tmp_path / "nbs" / "a.ipynb").write_text("{}")
    path = tmp_path / "mine.yaml"
    path.write_text("notebook_dir: nbs\ntimeout: 30\n")
    profile = load_profile(str(path))
    assert profile.name == "mine" and profile.timeout == 30.0
    assert [s.name for s in profile.notebooks] == ["a", "b"]
    with pytest.raises(ProfileError, match="profile file .*nope.yaml does not exist"):
        load_profile(str(tmp_path / "nope.yaml"))


@pytest.mark.parametrize(("text", "message"), [
    ("target: staging", "unknown target 'staging'; known: embedded, local, remote"),
    ("url_env: https://x.supabase.co", "url_env must be the NAME of an environment variable"),
    (f"key_env: {JWT}", "key_env must be the NAME of an environment variable, got (a secret"),
    ("jobs: 0", "jobs must be a positive number, got 0"),
    ("timeout: soon", "timeout must be a positive number, got 'soon'"),
    ("colour: blue", "unknown setting(s) colour; known:"),
    ("notebooks: 3", "notebooks must be a list or \"all\""),
    ("notebooks: [{parameters: {}}]", "each notebooks entry needs `notebook: FILE.ipynb`"),
    (f"notebooks: [{{notebook: a.ipynb, parameters: {{key: {JWT}}}}}]",
     "parameter 'key' holds a key-shaped value"),
    ("[1, 2", "is not valid YAML"),
    ("- a\n- b", "must be a mapping of settings"),
])
def test_bad_profiles_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as err:
        parse_profile(text, name="bad")
    assert message in str(err.value)
    assert "\n" not in str(err.value) and JWT not in str(err.value)


def test_only_narrows_by_stem_or_file_name_and_rejects_unknown(tmp_path: Path) -> None:
    profile = parse_profile("notebooks: [a.ipynb, b.ipynb, {notebook: c.ipynb, parameters: {n: 1}}]",
                            name="p", cwd=tmp_path)
    assert [s.name for s in select_notebooks(profile, ["c", "a.ipynb"])] == ["c", "a"]
    assert select_notebooks(profile, None) == list(profile.notebooks)
    with pytest.raises(ProfileError, match="--only 'z' is not a notebook of profile p; known: a, b, c"):
        select_notebooks(profile, ["z"])
