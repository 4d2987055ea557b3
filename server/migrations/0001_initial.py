from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from server.rewards.activities import ActivityKind, ActivityStatus
from server.rewards.ledger import EntryKind
from server.rewards.staff import StaffRole
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('role', fields.CharEnumField(description='SERVICE: SERVICE\nMODERATOR: MODERATOR\nADMIN: ADMIN', enum_type=StaffRole, max_length=16)),
                ('prefix', fields.CharField(unique=True, max_length=16)),
                ('key_hash', fields.CharField(max_length=64)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'api_keys', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BoardUpdate',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField()),
                ('community', fields.CharField(null=True, max_length=64)),
                ('delta', fields.IntField()),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'board_updates', 'app': 'laurel', 'pk_attr': 'id', 'table_description': "Outbox: a change of a member's earned points not yet applied to the boards."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Member',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('external_id', fields.CharField(unique=True, max_length=128)),
                ('display_name', fields.CharField(max_length=80)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('community', fields.CharField(null=True, db_index=True, max_length=64)),
                ('referral_code', fields.CharField(unique=True, max_length=16)),
                ('points_balance', fields.IntField(default=0)),
                ('pending_points', fields.IntField(default=0)),
                ('lifetime_points', fields.IntField(default=0)),
                ('next_release_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'members', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Activity',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('laurel.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='activities', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='REVIEW: REVIEW\nPHOTO_REVIEW: PHOTO_REVIEW\nSOCIAL_SHARE: SOCIAL_SHARE\nREFERRAL: REFERRAL\nPURCHASE: PURCHASE', enum_type=ActivityKind, max_length=16)),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nAPPROVED: APPROVED\nREJECTED: REJECTED\nREVERSED: REVERSED', enum_type=ActivityStatus, max_length=16)),
                ('points_awarded', fields.IntField(default=0)),
                ('points', fields.IntField(default=0)),
                ('idempotency_key', fields.CharField(unique=True, max_length=255)),
                ('request_hash', fields.CharField(max_length=64)),
                ('dedupe_key', fields.CharField(null=True, unique=True, max_length=255)),
                ('payload', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'activities', 'app': 'laurel', 'indexes': [Index(fields=['member_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('laurel.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='ledger_entries', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='EARN: EARN\nRELEASE: RELEASE\nADJUST: ADJUST\nSPEND: SPEND\nREVERSAL: REVERSAL', enum_type=EntryKind, max_length=16)),
                ('amount', fields.IntField()),
                ('pending_delta', fields.IntField(default=0)),
                ('lifetime_delta', fields.IntField(default=0)),
                ('reason', fields.CharField(max_length=500)),
                ('actor', fields.CharField(max_length=128)),
                ('idempotency_key', fields.CharField(unique=True, max_length=255)),
                ('request_hash', fields.CharField(max_length=64)),
                ('activity', fields.ForeignKeyField('laurel.Activity', source_field='activity_id', null=True, db_constraint=True, to_field='id', related_name='ledger_entries', on_delete=OnDelete.RESTRICT)),
                ('source_entry', fields.ForeignKeyField('laurel.LedgerEntry', source_field='source_entry_id', null=True, db_constraint=True, to_field='id', related_name='settlements', on_delete=OnDelete.RESTRICT)),
                ('available_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ledger_entries', 'app': 'laurel', 'indexes': [Index(fields=['member_id', 'id']), Index(fields=['available_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
