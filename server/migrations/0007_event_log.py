from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from server.rewards.events import EventType
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('laurel', '0006_contests')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsumerState',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('position', fields.BigIntField(default=0)),
                ('gaps', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('lease_owner', fields.CharField(null=True, max_length=64)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failures', fields.IntField(default=0)),
                ('retry_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('state', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'event_consumers', 'app': 'laurel', 'pk_attr': 'name', 'table_description': 'Where one consumer of the log stands, and which process may advance it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EffectsDone',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event_id', fields.BigIntField(unique=True)),
            ],
            options={'table': 'effects_done', 'app': 'laurel', 'pk_attr': 'id', 'table_description': 'An event whose badge and tier effects the request that made it carried out itself:'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Event',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('type', fields.CharEnumField(description='MEMBER_CREATED: member.created\nMEMBER_UPDATED: member.updated\nACTIVITY_RECORDED: activity.recorded\nACTIVITY_APPROVED: activity.approved\nACTIVITY_REJECTED: activity.rejected\nACTIVITY_REVERSED: activity.reversed\nPOINTS_CREDITED: points.credited\nPOINTS_REVERSED: points.reversed\nPOINTS_SPENT: points.spent\nPOINTS_EXPIRED: points.expired\nPOINTS_RELEASED: points.released\nBADGE_GRANTED: badge.granted\nBADGE_REVOKED: badge.revoked\nTIER_CHANGED: tier.changed\nREDEMPTION_CREATED: redemption.created\nREDEMPTION_CANCELLED: redemption.cancelled\nREDEMPTION_FULFILLED: redemption.fulfilled\nCONTEST_PUBLISHED: contest.published\nCONTEST_FINALIZED: contest.finalized', enum_type=EventType, max_length=32)),
                ('member_id', fields.BigIntField(null=True)),
                ('payload', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'events', 'app': 'laurel', 'indexes': [Index(fields=['member_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One committed change. Never updated or deleted.'},
            bases=['Model'],
        ),
        ops.DeleteModel(name='BoardUpdate'),
    ]
