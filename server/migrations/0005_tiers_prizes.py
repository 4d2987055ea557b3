from tortoise import migrations
from tortoise.migrations import operations as ops
from server.rewards.ledger import EntryKind
from server.rewards.prizes import PrizeKind, RedemptionStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('laurel', '0004_board_times')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Prize',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('description', fields.CharField(default='', max_length=1000)),
                ('kind', fields.CharEnumField(default=PrizeKind.DISCOUNT_CODE, description='DISCOUNT_CODE: DISCOUNT_CODE\nGIFT_CARD: GIFT_CARD\nPHYSICAL: PHYSICAL\nDIGITAL: DIGITAL', enum_type=PrizeKind, max_length=16)),
                ('cost', fields.IntField()),
                ('stock', fields.IntField(null=True)),
                ('stock_left', fields.IntField(null=True)),
                ('per_member_limit', fields.IntField(null=True)),
                ('min_tier_id', fields.IntField(null=True)),
                ('available_from', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('available_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('uses_pool', fields.BooleanField(default=False)),
                ('archived', fields.BooleanField(default=False)),
                ('updated_by', fields.CharField(max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'prizes', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PrizeCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('prize', fields.ForeignKeyField('laurel.Prize', source_field='prize_id', db_constraint=True, to_field='id', related_name='codes', on_delete=OnDelete.RESTRICT)),
                ('code', fields.CharField(max_length=64)),
                ('redemption_id', fields.BigIntField(null=True)),
            ],
            options={'table': 'prize_codes', 'app': 'laurel', 'unique_together': (('prize_id', 'code'),), 'indexes': [Index(fields=['prize_id', 'redemption_id'])], 'pk_attr': 'id', 'table_description': 'A pre-loaded code (a gift card number, a shop discount code), used at most once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Redemption',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField(db_index=True)),
                ('prize', fields.ForeignKeyField('laurel.Prize', source_field='prize_id', db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.RESTRICT)),
                ('cost', fields.IntField()),
                ('code', fields.CharField(max_length=64)),
                ('status', fields.CharEnumField(description='RESERVED: RESERVED\nFULFILLED: FULFILLED\nCANCELLED: CANCELLED', enum_type=RedemptionStatus, max_length=16)),
                ('idempotency_key', fields.CharField(unique=True, max_length=255)),
                ('request_hash', fields.CharField(max_length=64)),
                ('decided_by', fields.CharField(null=True, max_length=128)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancel_reason', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'redemptions', 'app': 'laurel', 'unique_together': (('prize_id', 'code'),), 'indexes': [Index(fields=['member_id', 'prize_id', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tier',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=40)),
                ('threshold', fields.IntField(unique=True)),
                ('multiplier', fields.DecimalField(max_digits=6, decimal_places=3)),
                ('entry_bonus', fields.IntField(default=0)),
                ('updated_by', fields.CharField(default='defaults', max_length=128)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'tiers', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TierChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField(db_index=True)),
                ('from_tier_id', fields.IntField(null=True)),
                ('to_tier_id', fields.IntField()),
                ('qualifying_points', fields.IntField()),
                ('bonus_points', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'tier_changes', 'app': 'laurel', 'pk_attr': 'id', 'table_description': "History: a member's tier as first seen different, with the points behind it."},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='LedgerEntry',
            name='kind',
            field=fields.CharEnumField(description='EARN: EARN\nRELEASE: RELEASE\nADJUST: ADJUST\nSPEND: SPEND\nREVERSAL: REVERSAL\nSETTLE: SETTLE\nEXPIRE: EXPIRE\nRETURN: RETURN', enum_type=EntryKind, max_length=16),
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='multiplier',
            field=fields.DecimalField(null=True, max_digits=6, decimal_places=3),
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='qualifying',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Member',
            name='tier_id',
            field=fields.IntField(null=True),
        ),
    ]
