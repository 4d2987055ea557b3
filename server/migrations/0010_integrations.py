from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from server.rewards.events import EventType
from server.rewards.integrations import DeliveryStatus, IntegrationKind
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('laurel', '0009_sqlite_ledger_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Integration',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='SHOPIFY: SHOPIFY\nWOOCOMMERCE: WOOCOMMERCE\nLAUREL: LAUREL', enum_type=IntegrationKind, max_length=16)),
                ('name', fields.CharField(max_length=100)),
                ('secret', fields.CharField(max_length=200)),
                ('previous_secret', fields.CharField(null=True, max_length=200)),
                ('previous_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('enabled', fields.BooleanField(default=True)),
                ('bad_signatures', fields.BigIntField(default=0)),
                ('created_by', fields.CharField(max_length=120)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'integrations', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('integration', fields.ForeignKeyField('laurel.Integration', source_field='integration_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.RESTRICT)),
                ('delivery_id', fields.CharField(max_length=200)),
                ('topic', fields.CharField(max_length=64)),
                ('body', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharEnumField(default=DeliveryStatus.RECEIVED, description='RECEIVED: RECEIVED\nAPPLIED: APPLIED\nDUPLICATE: DUPLICATE\nHELD: HELD\nREJECTED: REJECTED\nIGNORED: IGNORED', enum_type=DeliveryStatus, max_length=16)),
                ('reason', fields.TextField(null=True, unique=False)),
                ('order_ref', fields.CharField(null=True, db_index=True, max_length=128)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('applied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'hook_deliveries', 'app': 'laurel', 'unique_together': (('integration', 'delivery_id'),), 'indexes': [Index(fields=['status', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Event',
            name='type',
            field=fields.CharEnumField(description='MEMBER_CREATED: member.created\nMEMBER_UPDATED: member.updated\nACTIVITY_RECORDED: activity.recorded\nACTIVITY_APPROVED: activity.approved\nACTIVITY_REJECTED: activity.rejected\nACTIVITY_REVERSED: activity.reversed\nPOINTS_CREDITED: points.credited\nPOINTS_REVERSED: points.reversed\nPOINTS_SPENT: points.spent\nPOINTS_EXPIRED: points.expired\nPOINTS_RELEASED: points.released\nBADGE_GRANTED: badge.granted\nBADGE_REVOKED: badge.revoked\nTIER_CHANGED: tier.changed\nREDEMPTION_CREATED: redemption.created\nREDEMPTION_CANCELLED: redemption.cancelled\nREDEMPTION_FULFILLED: redemption.fulfilled\nCONTEST_PUBLISHED: contest.published\nCONTEST_FINALIZED: contest.finalized\nHOOK_RECEIVED: hook.received', enum_type=EventType, max_length=32),
        ),
        # SQLite rebuilds a table to change a column, and the rebuilt events table lost
        # its (member_id, id) index (PostgreSQL keeps it, under this name): made again.
        ops.RunSQL(
            [
                'CREATE INDEX IF NOT EXISTS "idx_events_member__8e9272" '
                'ON "events" ("member_id", "id")',
            ]
        ),
    ]
