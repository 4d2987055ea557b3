from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('laurel', '0005_tiers_prizes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Contest',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('description', fields.CharField(default='', max_length=2000)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('activity_kinds', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('community', fields.CharField(null=True, max_length=64)),
                ('min_tier_id', fields.IntField(null=True)),
                ('prizes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancel_reason', fields.CharField(null=True, max_length=500)),
                ('finalized_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'contests', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Disqualification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('laurel.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='disqualifications', on_delete=OnDelete.RESTRICT)),
                ('member_id', fields.BigIntField()),
                ('reason', fields.CharField(max_length=500)),
                ('decided_by', fields.CharField(max_length=128)),
                ('decided_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'contest_disqualifications', 'app': 'laurel', 'unique_together': (('contest_id', 'member_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Placement',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('laurel.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='placements', on_delete=OnDelete.RESTRICT)),
                ('member_id', fields.BigIntField(db_index=True)),
                ('rank', fields.IntField()),
                ('score', fields.IntField()),
                ('points_awarded', fields.IntField(default=0)),
                ('badge_slug', fields.CharField(null=True, max_length=48)),
            ],
            options={'table': 'contest_placements', 'app': 'laurel', 'unique_together': (('contest_id', 'member_id'),), 'pk_attr': 'id', 'table_description': 'A frozen standing: written once, when the contest is finalized.'},
            bases=['Model'],
        ),
    ]
