"""No module over 300 lines in server/, schema/, badges/ or leaderboards/: a longer one
usually does two jobs and is split by responsibility (../shared/STYLE.md)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "schema", "badges", "leaderboards")
MAX_LINES = 300


def _lines(path: Path) -> int:
    """Counted as ``wc -l`` counts: newline characters."""
    return path.read_bytes().count(b"\n")


def test_no_module_is_over_300_lines() -> None:
    too_long = sorted(
        (str(path.relative_to(ROOT)), n)
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if (n := _lines(path)) > MAX_LINES
    )
    assert not too_long, f"modules over {MAX_LINES} lines (split by responsibility): " + ", ".join(
        f"{name} ({n})" for name, n in too_long
    )


def test_the_packages_are_where_the_rule_looks() -> None:
    """A moved package would make the rule above pass by finding nothing."""
    for package in PACKAGES:
        assert (ROOT / package / "__init__.py").is_file(), package
