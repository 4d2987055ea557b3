"""``python -m schema.check``: is schema/schema.graphql what the code prints, and are
the migrations in step with the models? ``--write`` rewrites the schema file.
"""

from __future__ import annotations

import asyncio
import sys

from schema import SCHEMA_FILE, print_schema
from server.db import unmigrated_changes

__all__ = ["main"]


def main(argv: list[str]) -> int:
    printed = print_schema()
    if "--write" in argv:
        SCHEMA_FILE.write_text(printed, encoding="utf-8")
        print(f"wrote {SCHEMA_FILE}")
        return 0
    status = 0
    if SCHEMA_FILE.read_text(encoding="utf-8") != printed:
        print(f"{SCHEMA_FILE} differs from the code: run `make schema` and commit it")
        status = 1
    missing = asyncio.run(unmigrated_changes())
    if missing:
        print("the models changed without a migration: run `make migrations` and commit it")
        print("  would create: " + ", ".join(missing))
        status = 1
    if status == 0:
        print("schema file and migrations match the code")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
