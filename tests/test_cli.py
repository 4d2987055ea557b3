"""The `laurel` command as an operator runs it: real processes on a fresh data dir,
with the embedded defaults (no LAUREL_DATABASE_URL / LAUREL_REDIS_URL)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest

pytestmark = pytest.mark.embedded_only

LAUREL = str(Path(sys.executable).with_name("laurel"))  # the installed console script
COMMANDS = [
    "serve",
    "migrate",
    "seed-demo",
    "create-api-key",
    "list-api-keys",
    "revoke-api-key",
    "member-token",
    "release-pending",
    "check-consistency",
    "reevaluate-badges",
    "badge-sheet",
    "rebuild-leaderboards",
    "check-leaderboards",
    "load-codes",
    "import-orders",
    "report",
]
Result = subprocess.CompletedProcess[str]


def laurel(data_dir: Path, *args: str) -> Result:
    """Run `laurel ARGS` with only LAUREL_DATA_DIR set among the LAUREL_* variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LAUREL_") and k not in {"COLUMNS", "LINES"}
    }
    env["LAUREL_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [LAUREL, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def helps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """`laurel --help` and `laurel COMMAND --help` for every command, run side by side."""
    data_dir = tmp_path_factory.mktemp("help")
    targets = ["", *COMMANDS]
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        results = pool.map(
            lambda command: laurel(data_dir, *([command] if command else []), "--help"), targets
        )
        return dict(zip(targets, results, strict=True))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """A data dir with the demo community, and the output of the first `seed-demo`."""
    data_dir = tmp_path_factory.mktemp("seeded")
    return data_dir, laurel(data_dir, "seed-demo")


def test_app_help_lists_every_command(helps: dict[str, Result]) -> None:
    result = helps[""]
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help(command: str, helps: dict[str, Result]) -> None:
    result = helps[command]
    assert result.returncode == 0, result.stderr
    assert f"laurel {command}" in result.stdout
    assert "Traceback" not in result.stderr


def test_migrate_twice_is_a_no_op_the_second_time(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"  # does not exist yet: migrate creates it
    first = laurel(data_dir, "migrate")
    assert first.returncode == 0, first.stderr
    assert "up to date" in first.stdout
    assert (data_dir / "laurel.sqlite3").is_file()
    second = laurel(data_dir, "migrate")
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout


def test_create_api_key_prints_only_the_key(seeded: tuple[Path, Result]) -> None:
    data_dir, _ = seeded
    result = laurel(data_dir, "create-api-key", "--role", "service", "--name", "shop")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, lines  # a script can capture it with $(laurel create-api-key ...)
    assert lines[0].startswith("lrl_")
    assert lines[0] == lines[0].strip()
    assert len(lines[0]) > 20


def test_create_api_key_rejects_an_unknown_role(tmp_path: Path) -> None:
    result = laurel(tmp_path, "create-api-key", "--role", "bogus", "--name", "shop")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--role" in result.stderr
    assert "service" in result.stderr
    assert "Traceback" not in result.stderr


def test_seed_demo_twice_adds_nothing_and_balances_match(seeded: tuple[Path, Result]) -> None:
    data_dir, first = seeded
    assert first.returncode == 0, first.stderr
    added = re.search(r"(\d+) members, (\d+) purchases added", first.stdout)
    assert added is not None, first.stdout
    assert int(added.group(1)) > 0
    assert int(added.group(2)) > 0

    again = laurel(data_dir, "seed-demo")
    assert again.returncode == 0, again.stderr
    assert "0 purchases added" in again.stdout
    assert f"{added.group(2)} already there" in again.stdout

    check = laurel(data_dir, "check-consistency")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == "every balance matches its ledger"


def _b64url_json(part: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def test_member_token_prints_only_a_jwt_for_the_member(seeded: tuple[Path, Result]) -> None:
    data_dir, _ = seeded
    result = laurel(data_dir, "member-token", "demo-001")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, lines
    token = lines[0]
    parts = token.split(".")
    assert len(parts) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", part) for part in parts)
    assert _b64url_json(parts[0])["alg"] == "HS256"
    assert _b64url_json(parts[1])["sub"] == "demo-001"
    # Signed with the secret generated into the data dir, which the server uses too.
    secret = (data_dir / "jwt_secret").read_text().strip()
    claims = jwt.decode(token, secret, algorithms=["HS256"], options={"verify_aud": False})
    assert claims["sub"] == "demo-001"


# Shop ids are free text; one that looks like console markup must be echoed as typed.
@pytest.mark.parametrize("external_id", ["nobody", "[/vip]nobody"])
def test_member_token_for_an_unknown_member_fails_clearly(
    external_id: str, seeded: tuple[Path, Result]
) -> None:
    data_dir, _ = seeded
    result = laurel(data_dir, "member-token", external_id)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert external_id in result.stderr
    assert "member" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_release_pending_reports_what_it_released(seeded: tuple[Path, Result]) -> None:
    data_dir, _ = seeded
    result = laurel(data_dir, "release-pending")
    assert result.returncode == 0, result.stderr
    released = re.fullmatch(r"released (\d+) points for (\d+) members", result.stdout.strip())
    assert released is not None, result.stdout
    points, members = int(released.group(1)), int(released.group(2))
    assert (points == 0) == (members == 0)


def test_reevaluate_badges_finds_nothing_left_to_do_after_the_seed(
    seeded: tuple[Path, Result],
) -> None:
    """The demo earned its badges as it was seeded: a full re-check changes nothing."""
    data_dir, _ = seeded
    result = laurel(data_dir, "reevaluate-badges")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "badge levels granted: 0, revoked: 0"
    check = laurel(data_dir, "check-consistency")
    assert check.returncode == 0, check.stdout


def test_badge_sheet_draws_every_default_badge(tmp_path: Path) -> None:
    target = tmp_path / "sheet" / "badges.png"
    result = laurel(tmp_path, "badge-sheet", str(target), "--size", "64")
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(target) as sheet:
        assert sheet.format == "PNG"
        assert sheet.height == 13 * (64 + 16)  # one row per default badge
    bad = laurel(tmp_path, "badge-sheet", "/proc/no/such/dir/x.png")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: cannot write")


def test_rebuild_then_check_leaderboards(seeded: tuple[Path, Result]) -> None:
    data_dir, _ = seeded
    check = laurel(data_dir, "check-leaderboards")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == "every leaderboard matches the ledger"
    rebuilt = laurel(data_dir, "rebuild-leaderboards")
    assert rebuilt.returncode == 0, rebuilt.stderr
    found = re.search(r"rebuilt (\d+) boards from (\d+) ledger entries", rebuilt.stdout)
    assert found is not None, rebuilt.stdout
    assert int(found.group(1)) >= 10  # global and community boards, five windows each
    assert int(found.group(2)) > 0
    again = laurel(data_dir, "check-leaderboards")
    assert again.returncode == 0, again.stdout + again.stderr


def test_load_codes_fills_a_prize_pool(seeded: tuple[Path, Result], tmp_path: Path) -> None:
    data_dir, _ = seeded
    script = (
        "import asyncio\n"
        "from server.actions import PrizeFields, create_prize\n"
        "from server.auth import Principal, Role\n"
        "from server.db import orm\n"
        "from server.settings import load_settings\n"
        "async def main():\n"
        "    async with orm(load_settings().resolved_database_url):\n"
        "        p = await create_prize(Principal(Role.ADMIN, name='t'), "
        "PrizeFields(name='Gift card', cost=10))\n"
        "        print(p.id)\n"
        "asyncio.run(main())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    env["LAUREL_DATA_DIR"] = str(data_dir)
    made = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    prize_id = made.stdout.strip()
    codes = tmp_path / "codes.txt"
    codes.write_text("GC-1\nGC-2\n\nGC-2\n")
    first = laurel(data_dir, "load-codes", prize_id, str(codes))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("added 2 codes; 1 were already there")
    again = laurel(data_dir, "load-codes", prize_id, str(codes))
    assert again.stdout.strip().endswith("added 0 codes; 3 were already there")
    missing = laurel(data_dir, "load-codes", "999999", str(codes))
    assert missing.returncode == 2
    assert "No prize" in missing.stderr
    unreadable = laurel(data_dir, "load-codes", prize_id, str(tmp_path / "nope.txt"))
    assert unreadable.returncode == 2
    assert unreadable.stderr.startswith("error: cannot read")


def _key_accepted(data_dir: Path, key: str) -> bool:
    """Whether the server would take ``key`` (the lookup every request makes)."""
    script = (
        "import asyncio, sys\n"
        "from server.auth import AuthError, authenticate\n"
        "from server.db import orm\n"
        "from server.settings import load_settings\n"
        "async def main():\n"
        "    async with orm(load_settings().resolved_database_url):\n"
        "        try:\n"
        "            await authenticate('Bearer ' + sys.argv[1], 'unused')\n"
        "        except AuthError:\n"
        "            return 'refused'\n"
        "        return 'accepted'\n"
        "print(asyncio.run(main()))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    env["LAUREL_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [sys.executable, "-c", script, key], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip() == "accepted"


def test_list_and_revoke_api_keys(tmp_path: Path) -> None:
    empty = laurel(tmp_path, "list-api-keys")
    assert empty.returncode == 0, empty.stderr
    assert "no API keys yet" in empty.stdout
    name = "[bold]shop[/bold] backend"  # free text: printed as typed, never as markup
    shop = laurel(tmp_path, "create-api-key", "--role", "service", "--name", name).stdout.strip()
    owner = laurel(tmp_path, "create-api-key", "--role", "admin", "--name", "owner").stdout
    shop_prefix, owner_prefix = shop[:16], owner.strip()[:16]

    listed = laurel(tmp_path, "list-api-keys")
    assert listed.returncode == 0, listed.stderr
    assert shop not in listed.stdout  # secrets are never shown again
    rows = [line for line in listed.stdout.splitlines() if "lrl_" in line]
    assert [row.split()[0] for row in rows] == [owner_prefix, shop_prefix]  # newest first
    assert name in rows[1]
    assert "SERVICE" in rows[1]
    assert rows[1].rstrip().endswith("-")  # not revoked
    assert _key_accepted(tmp_path, shop)

    revoked = laurel(tmp_path, "revoke-api-key", shop_prefix)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"revoked API key {shop_prefix} (SERVICE, {name!r})"
    assert not _key_accepted(tmp_path, shop)
    assert _key_accepted(tmp_path, owner.strip())

    again = laurel(tmp_path, "revoke-api-key", shop)  # the whole key is accepted too
    assert again.returncode == 0, again.stderr
    assert "was already revoked on" in again.stdout
    rows = [
        line for line in laurel(tmp_path, "list-api-keys").stdout.splitlines() if "lrl_" in line
    ]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d$", rows[1].rstrip()), rows[1]

    for unknown in ("lrl_000000000000", "nonsense"):
        missing = laurel(tmp_path, "revoke-api-key", unknown)
        assert missing.returncode == 2, missing.stdout
        assert missing.stdout == ""
        assert missing.stderr.startswith("error: No API key starts with"), missing.stderr
        assert "Traceback" not in missing.stderr
