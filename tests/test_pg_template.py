"""The template PostgreSQL cluster (kit.stack.pg_template): real PostgreSQL, a private cache."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

import kit
from kit.stack.pg_template import TemplateCache, TemplateDamaged, _verify, cache_dir
from kit.stack.postgres import Cluster
from kit.targets import Target


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private, not yet existing KIT_CACHE_DIR for this module (stack processes inherit it)."""
    folder = tmp_path_factory.mktemp("cache") / "kit"
    before = os.environ.get("KIT_CACHE_DIR")
    os.environ["KIT_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        del os.environ["KIT_CACHE_DIR"]
    else:
        os.environ["KIT_CACHE_DIR"] = before


@pytest.fixture(scope="module")
def two_stacks(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Target]]:
    """Two stacks started at the same time on an empty cache: two builders race for one template."""
    folders = [tmp_path_factory.mktemp(name) / ".kit" / "stack" for name in ("one", "two")]
    with ThreadPoolExecutor(2) as pool:
        targets = list(pool.map(kit.stack.start, folders))
    yield targets
    for folder in folders:
        kit.stack.stop(folder)


def _template(cache: Path) -> Path:
    [folder] = [p for p in (cache / "pg-templates").iterdir() if p.is_dir()]
    return folder


def _superuser_password(target: Target) -> str:
    return str(json.loads((Path(target.stack_dir or "") / "postgres.json").read_text())["password"])


def test_stacks_copied_from_one_template_answer_with_their_own_passwords(cache, two_stacks):
    template = _template(cache)
    assert [p.name for p in (cache / "pg-templates").iterdir() if p.name.startswith(".")] == []
    for target in two_stacks:
        answer = httpx.get(f"{target.url}/rest/v1/", headers={"apikey": target.anon_key}, timeout=30)
        assert answer.status_code == 200
    passwords = [_superuser_password(t) for t in two_stacks]
    logins = []
    for target in two_stacks:
        assert target.database_url
        with psycopg.connect(target.database_url) as conn:
            row = conn.execute("SELECT password FROM kit_meta.login_role WHERE name = 'authenticator'"
                               ).fetchone()
            assert row is not None
            logins.append(row[0])
    template_password = json.loads((template / "postgres.json").read_text())["password"]
    assert len({*passwords, template_password}) == 3 and logins[0] != logins[1]
    stale = two_stacks[0].database_url.replace(passwords[0], template_password)  # type: ignore[union-attr]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(stale)
    for target in two_stacks:
        settings = json.loads((Path(target.stack_dir or "") / "postgres.json").read_text())
        assert "template_password" not in settings and "next_password" not in settings


def test_copies_share_no_file_with_the_template_and_no_hba_trusts(cache, two_stacks):
    template = _template(cache)
    template_inodes = {p.stat().st_ino for p in (template / "pg").rglob("*") if p.is_file()}
    hba_files = [template / "pg" / "pg_hba.conf"]
    for target in two_stacks:
        pgdata = Path(target.stack_dir or "") / "pg"
        files = [p for p in pgdata.rglob("*") if p.is_file()]
        assert len(files) > 500 and all(p.stat().st_nlink == 1 for p in files)
        assert not template_inodes & {p.stat().st_ino for p in files}
        hba_files.append(pgdata / "pg_hba.conf")
    for hba in hba_files:
        rules = [line for line in hba.read_text().splitlines() if line.strip() and not line.startswith("#")]
        assert rules == ["local all all scram-sha-256"], hba


def test_the_cache_directory_is_private_and_comes_from_the_environment(cache, two_stacks, tmp_path):
    for folder in (cache, cache / "pg-templates", _template(cache)):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert (_template(cache) / "postgres.json").stat().st_mode & 0o777 == 0o600
    assert cache_dir({"KIT_CACHE_DIR": "/x/k"}) == Path("/x/k")
    assert cache_dir({"XDG_CACHE_HOME": "/x/c"}) == Path("/x/c/kit")
    assert cache_dir({}) == Path.home() / ".cache" / "kit"
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    TemplateCache(loose / "pg-templates")._make_private()
    assert loose.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("damage", ["truncated file", "missing file", "garbage manifest"])
def test_a_damaged_template_is_detected(cache, two_stacks, tmp_path, damage):
    """Each kind of damage on a small stand-in: the real one is rebuilt in the next test."""
    template = _template(cache)
    key = template.name
    fake = tmp_path / key
    (fake / "pg" / "base").mkdir(parents=True)
    (fake / "pg" / "base" / "1").write_bytes(b"x" * 100)
    (fake / "postgres.json").write_text('{"password": "p"}')
    (fake / "manifest.json").write_text(json.dumps({"key": key, "dirs": ["base"], "files": {"base/1": 100}}))
    assert _verify(fake, key)["password"] == "p"
    if damage == "truncated file":
        (fake / "pg" / "base" / "1").write_bytes(b"x" * 99)
    elif damage == "missing file":
        (fake / "pg" / "base" / "1").unlink()
    else:
        (fake / "manifest.json").write_text("{")
    with pytest.raises(TemplateDamaged):
        _verify(fake, key)


def test_a_corrupted_template_is_rebuilt_and_the_start_succeeds(cache, two_stacks, tmp_path, capfd):
    template = _template(cache)
    biggest = max((p for p in (template / "pg" / "base").rglob("*") if p.is_file()),
                  key=lambda p: p.stat().st_size)
    size = biggest.stat().st_size
    with open(biggest, "r+b") as fh:
        fh.truncate(size // 2)
    killed_build = template.parent / f".build-{template.name}-killed"
    (killed_build / "pg").mkdir(parents=True)
    cluster = Cluster(tmp_path / "pg", tmp_path / "postgres.json")
    try:
        url = cluster.start()
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'authenticator'").fetchone() == (1,)
    finally:
        cluster.stop()
    said = capfd.readouterr().err
    assert f"rebuilding the PostgreSQL template {template}" in said and "bytes, not" in said
    assert biggest.stat().st_size == size and _verify(template, template.name)
    assert not killed_build.exists()  # a killed build's folder goes at the next build


def test_an_unusable_cache_is_bypassed_with_one_line_and_initdb(cache, tmp_path, monkeypatch, capfd):
    not_a_dir = tmp_path / "cache-file"
    not_a_dir.write_text("x")
    monkeypatch.setenv("KIT_CACHE_DIR", str(not_a_dir))
    cluster = Cluster(tmp_path / "pg", tmp_path / "postgres.json")
    try:
        with psycopg.connect(cluster.start()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        cluster.stop()
    said = [line for line in capfd.readouterr().err.splitlines() if line.startswith("kit:")]
    assert len(said) == 1 and "running initdb instead" in said[0] and str(not_a_dir) in said[0]
    assert not_a_dir.read_text() == "x"


def test_a_start_killed_after_the_password_change_finishes_it(cache, two_stacks, tmp_path):
    """The copy's first start changes the password, then saves it: killed in between, the next
    start knows the new one (``next_password``) and finishes the change. The copy holds no
    login role's password before it."""
    cluster = Cluster(tmp_path / "pg", tmp_path / "postgres.json")
    with cluster.lock():
        cluster.create()
    settings = json.loads(cluster.settings_path.read_text())
    assert settings["template_password"] is True
    cluster._serve(settings, 60.0)
    with psycopg.connect(cluster.url(settings), autocommit=True) as conn:
        # the template holds no login password: each stack makes its own at its first bootstrap
        assert conn.execute("SELECT count(*) FROM kit_meta.login_role").fetchone() == (0,)
        assert conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'authenticator'"
                            ).fetchone() == (None,)
        conn.execute("ALTER ROLE postgres PASSWORD 'the-new-one'")
    cluster._save({**settings, "next_password": "the-new-one"})
    try:
        url = cluster.start()  # the server is running: reused, and the change is finished
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        cluster.stop()
    assert json.loads(cluster.settings_path.read_text())["password"] == "the-new-one"


def test_finding_the_binaries_prints_no_runtime_dir_warning_and_hides_no_other():
    """pgserver's import asks platformdirs for a runtime directory the kit never uses; without
    XDG_RUNTIME_DIR that printed a RuntimeDirWarning on every fresh stack start."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    code = ("import warnings\nimport kit.stack.postgres as p\nprint(p.binaries())\n"
            "warnings.warn('XDG_RUNTIME_DIR from elsewhere', UserWarning)\n")
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], env=env, capture_output=True,
                          text=True, check=True)
    assert Path(done.stdout.strip(), "postgres").exists()
    assert "RuntimeDirWarning" not in done.stderr and "is not set" not in done.stderr
    assert "UserWarning: XDG_RUNTIME_DIR from elsewhere" in done.stderr  # the filter is that narrow


def _fake_template(root: Path, key: str, *, binary: Path | None, age_days: float = 0) -> Path:
    folder = root / key
    (folder / "pg").mkdir(parents=True)
    manifest = {"key": key, "dirs": [], "files": {}}
    if binary is not None:
        manifest["postgres"] = str(binary)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    stamp = time.time() - age_days * 86400
    os.utime(folder, (stamp, stamp))
    return folder


def test_prune_removes_templates_of_deleted_binaries_and_long_unused_ones_only(tmp_path):
    from kit.stack.file_lock import hold

    root = tmp_path / "pg-templates"
    binary = tmp_path / "venv-alive" / "postgres"
    binary.parent.mkdir()
    binary.write_text("")
    kept = {_fake_template(root, "pg16.2-alive", binary=binary, age_days=3),
            _fake_template(root, "pg16.2-legacy", binary=None, age_days=29),  # no binary recorded
            _fake_template(root, "pg16.2-current", binary=tmp_path / "gone" / "postgres", age_days=90)}
    gone = {_fake_template(root, "pg16.2-deleted-venv", binary=tmp_path / "gone" / "postgres"),
            _fake_template(root, "pg16.2-old", binary=binary, age_days=31)}
    busy = _fake_template(root, "pg16.2-busy", binary=tmp_path / "gone" / "postgres")
    with hold(root / "pg16.2-busy.lock", 1, "copying", shared=True):  # another start copies it
        removed = TemplateCache(root).prune(keep="pg16.2-current")
    assert sorted(removed) == sorted(f.name for f in gone)
    assert all(f.is_dir() for f in kept | {busy}) and not any(f.exists() for f in gone)
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []  # nothing half-deleted
    assert TemplateCache(tmp_path / "no-such-cache").prune(keep="x") == []


def test_a_copy_marks_its_template_used_and_its_manifest_names_the_binary(cache, two_stacks):
    from kit.stack.postgres import binaries

    template = _template(cache)
    manifest = json.loads((template / "manifest.json").read_text())
    assert manifest["postgres"] == str(binaries() / "postgres")
    old = time.time() - 40 * 86400
    os.utime(template, (old, old))
    TemplateCache(cache / "pg-templates").copy_into(cache.parent / "fresh-copy", timeout=60)
    assert template.stat().st_mtime > time.time() - 3600
