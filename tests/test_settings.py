"""Settings: the defaults a fresh clone runs on, one clear line for each bad value,
and the JWT secret that is generated once per data dir."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings

LAUREL = str(Path(sys.executable).with_name("laurel"))  # the installed console script
INVALID = [
    ("LAUREL_PORT", "abc"),
    ("LAUREL_PORT", "70000"),
    ("LAUREL_PURCHASE_PENDING_DAYS", "-1"),
    ("LAUREL_DATABASE_URL", "mysql://x"),
    ("LAUREL_REDIS_URL", "http://x"),
    ("LAUREL_JWT_SECRET", "short"),
    ("LAUREL_POINTS_PER_CURRENCY_UNIT", "-2"),
]
INVALID_IDS = [f"{name}={value}" for name, value in INVALID]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LAUREL_* setting from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("LAUREL_"):
            monkeypatch.delenv(name)


def test_defaults_are_what_a_fresh_clone_runs_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.port == 8000
    assert settings.purchase_pending_days == 14
    assert settings.data_dir == Path("data")
    assert settings.database_url is None
    assert settings.redis_url is None
    expected = tmp_path.resolve() / "data" / "laurel.sqlite3"
    assert settings.resolved_database_url == f"sqlite://{expected}"


def test_the_sqlite_file_lives_in_the_configured_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUREL_DATA_DIR", str(tmp_path / "store"))
    settings = load_settings()
    assert settings.resolved_database_url == f"sqlite://{tmp_path.resolve()}/store/laurel.sqlite3"


def test_a_database_url_replaces_the_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://laurel@db.example/laurel"
    monkeypatch.setenv("LAUREL_DATABASE_URL", url)
    assert load_settings().resolved_database_url == url


@pytest.mark.parametrize(("name", "value"), INVALID, ids=INVALID_IDS)
def test_an_invalid_setting_is_one_line_naming_it(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{name}:")
    assert "\n" not in message
    assert len(message) > len(name) + 2  # says what is wrong, not only where


def _cli_env(data_dir: Path, name: str, value: str) -> dict[str, str]:
    # Drop terminal sizes too, so that the output does not depend on the runner's shell.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LAUREL_") and k not in {"COLUMNS", "LINES"}
    }
    env["LAUREL_DATA_DIR"] = str(data_dir)
    env[name] = value
    return env


@pytest.fixture(scope="module")
def migrate_with_bad_settings(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], subprocess.CompletedProcess[str]]:
    """`laurel migrate` once per invalid setting, run side by side to save time."""
    base = tmp_path_factory.mktemp("bad-settings")

    def run(index: int) -> subprocess.CompletedProcess[str]:
        name, value = INVALID[index]
        return subprocess.run(
            [LAUREL, "migrate"],
            env=_cli_env(base / str(index), name, value),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=len(INVALID)) as pool:
        results = list(pool.map(run, range(len(INVALID))))
    return dict(zip(INVALID, results, strict=True))


@pytest.mark.parametrize(("name", "value"), INVALID, ids=INVALID_IDS)
def test_the_cli_stops_with_one_line_naming_the_bad_setting(
    name: str,
    value: str,
    migrate_with_bad_settings: dict[tuple[str, str], subprocess.CompletedProcess[str]],
) -> None:
    result = migrate_with_bad_settings[(name, value)]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    assert name in lines[0]
    assert "database is up to date" not in result.stdout


def test_jwt_secret_is_generated_once_into_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUREL_DATA_DIR", str(tmp_path))
    first = load_settings().resolved_jwt_secret()
    assert len(first) >= 32
    secret_files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert len(secret_files) == 1
    assert stat.S_IMODE(secret_files[0].stat().st_mode) == 0o600
    # A restart (new settings object) signs with the same secret: tokens stay valid.
    assert load_settings().resolved_jwt_secret() == first


def test_two_data_dirs_never_share_a_generated_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUREL_DATA_DIR", str(tmp_path / "shop-a"))
    a = load_settings().resolved_jwt_secret()
    monkeypatch.setenv("LAUREL_DATA_DIR", str(tmp_path / "shop-b"))
    b = load_settings().resolved_jwt_secret()
    assert a != b


def test_a_configured_jwt_secret_wins_over_the_generated_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUREL_DATA_DIR", str(tmp_path))
    generated = load_settings().resolved_jwt_secret()
    configured = "configured-secret-" + "y" * 32
    monkeypatch.setenv("LAUREL_JWT_SECRET", configured)
    assert load_settings().resolved_jwt_secret() == configured
    assert configured != generated
