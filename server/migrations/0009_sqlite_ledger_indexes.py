from tortoise import migrations
from tortoise.migrations import operations as ops

# On SQLite, a table rebuilt by an earlier migration's column change lost the two
# indexes of ledger_entries (PostgreSQL kept them, under these names): every read of a
# member's entries scanned the whole ledger. IF NOT EXISTS: a no-op where they exist.


class Migration(migrations.Migration):
    dependencies = [('laurel', '0008_api_key_idempotency_scope')]

    initial = False

    operations = [
        ops.RunSQL(
            [
                'CREATE INDEX IF NOT EXISTS "idx_ledger_entr_member__9b58d7" '
                'ON "ledger_entries" ("member_id", "id")',
                'CREATE INDEX IF NOT EXISTS "idx_ledger_entr_availab_a75702" '
                'ON "ledger_entries" ("available_at")',
            ]
        ),
    ]
