"""The printed schema is the code's, and it keeps the public contract.

Every breaking change against ../shared/contract.graphql must be listed in
tests/contract_pending.txt (contract items not built yet), and every listed
item must still be missing: the file only shrinks as issues build them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes

from schema import SCHEMA_FILE, print_schema

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "contract.graphql"
PENDING = ROOT / "tests" / "contract_pending.txt"

_COORDINATE = re.compile(
    r"^(?:Field |Argument |Standard scalar )?(?P<coord>[A-Za-z_][\w.]*(?:\(\w+:\))?)"
)


def _coordinate(description: str) -> str:
    """'Field Member.tier was removed.' -> 'Member.tier'; enum values -> 'Enum.VALUE'."""
    value = re.match(r"^(\w+) was removed from enum type (\w+)\.$", description)
    if value:
        return f"{value.group(2)}.{value.group(1)}"
    member = re.match(r"^(\w+) was removed from union type (\w+)\.$", description)
    if member:
        return f"{member.group(2)}|{member.group(1)}"
    match = _COORDINATE.match(description)
    assert match, f"cannot read a schema coordinate from {description!r}"
    return match.group("coord")


def _pending() -> set[str]:
    lines = PENDING.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_schema_file_is_printed_from_the_code() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == print_schema(), (
        "schema/schema.graphql is stale: run `make schema` and commit it"
    )


@pytest.mark.skipif(not CONTRACT.exists(), reason="the shared contract is not beside this clone")
def test_only_pending_contract_items_are_missing() -> None:
    contract = build_schema(CONTRACT.read_text(encoding="utf-8"))
    ours = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    breaking = {
        _coordinate(change.description): change for change in find_breaking_changes(contract, ours)
    }
    pending = _pending()
    unlisted = {c: ch.description for c, ch in breaking.items() if c not in pending}
    assert not unlisted, f"breaking changes not listed as pending: {unlisted}"
    built = pending - breaking.keys()
    assert not built, f"built now, remove from {PENDING.name}: {sorted(built)}"


def test_coordinates_are_read_from_every_kind_of_change() -> None:
    assert _coordinate("Field Member.tier was removed.") == "Member.tier"
    assert _coordinate("Tier was removed.") == "Tier"
    assert _coordinate("Argument Query.leaderboard(board:) was removed.") == (
        "Query.leaderboard(board:)"
    )
    assert (
        _coordinate("Standard scalar Float was removed because it is not referenced anymore.")
        == "Float"
    )
    assert _coordinate("REVIEW was removed from enum type ActivityKind.") == "ActivityKind.REVIEW"
