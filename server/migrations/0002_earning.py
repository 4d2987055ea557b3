from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from server.rewards.activities import ActivityKind
from server.rewards.ledger import EntryKind
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('laurel', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EarningRule',
            fields=[
                ('kind', fields.CharEnumField(primary_key=True, unique=True, db_index=True, description='REVIEW: REVIEW\nPHOTO_REVIEW: PHOTO_REVIEW\nSOCIAL_SHARE: SOCIAL_SHARE\nREFERRAL: REFERRAL\nPURCHASE: PURCHASE', enum_type=ActivityKind, max_length=16)),
                ('points', fields.IntField(default=0)),
                ('points_per_currency_unit', fields.DecimalField(null=True, max_digits=12, decimal_places=4)),
                ('daily_cap', fields.IntField(null=True)),
                ('monthly_cap', fields.IntField(null=True)),
                ('target_cap', fields.IntField(null=True)),
                ('pending_days', fields.IntField(null=True)),
                ('needs_moderation', fields.BooleanField(default=False)),
                ('active', fields.BooleanField(default=True)),
                ('updated_by', fields.CharField(default='defaults', max_length=128)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'earning_rules', 'app': 'laurel', 'pk_attr': 'kind'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PurchasedProduct',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField(db_index=True)),
                ('product_id', fields.CharField(max_length=128)),
                ('purchase', fields.ForeignKeyField('laurel.Activity', source_field='purchase_id', db_constraint=True, to_field='id', related_name='products', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'purchased_products', 'app': 'laurel', 'unique_together': (('purchase_id', 'product_id'),), 'indexes': [Index(fields=['member_id', 'product_id'])], 'pk_attr': 'id', 'table_description': 'A product in a recorded order: what makes a review a verified one.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Refund',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('purchase', fields.ForeignKeyField('laurel.Activity', source_field='purchase_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.RESTRICT)),
                ('idempotency_key', fields.CharField(unique=True, max_length=255)),
                ('request_hash', fields.CharField(max_length=64)),
                ('amount_cents', fields.BigIntField()),
                ('points_taken', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'refunds', 'app': 'laurel', 'pk_attr': 'id', 'table_description': 'A (partial) refund of a recorded purchase, idempotent by key.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RuleChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='REVIEW: REVIEW\nPHOTO_REVIEW: PHOTO_REVIEW\nSOCIAL_SHARE: SOCIAL_SHARE\nREFERRAL: REFERRAL\nPURCHASE: PURCHASE', enum_type=ActivityKind, max_length=16)),
                ('actor', fields.CharField(max_length=128)),
                ('changes', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'earning_rule_changes', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Activity',
            name='decided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Activity',
            name='decided_by',
            field=fields.CharField(null=True, max_length=128),
        ),
        ops.AddField(
            model_name='Activity',
            name='decision_reason',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='Activity',
            name='flag_reason',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='Activity',
            name='target',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddIndex(
            model_name='Activity',
            index=Index(fields=['member_id', 'kind', 'target']),
        ),
        ops.AddIndex(
            model_name='Activity',
            index=Index(fields=['status', 'kind']),
        ),
        ops.AlterField(
            model_name='LedgerEntry',
            name='kind',
            field=fields.CharEnumField(description='EARN: EARN\nRELEASE: RELEASE\nADJUST: ADJUST\nSPEND: SPEND\nREVERSAL: REVERSAL\nSETTLE: SETTLE\nEXPIRE: EXPIRE', enum_type=EntryKind, max_length=16),
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='debt_delta',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Member',
            name='debt_points',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Member',
            name='next_expiry_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
    ]
