from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('laurel', '0002_earning')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BadgeChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('slug', fields.CharField(max_length=48)),
                ('actor', fields.CharField(max_length=128)),
                ('changes', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'badge_changes', 'app': 'laurel', 'pk_attr': 'id', 'table_description': 'Who changed a badge definition, when, and what.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BadgeDefinition',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=48)),
                ('name', fields.CharField(max_length=60)),
                ('description', fields.CharField(max_length=300)),
                ('metric', fields.CharField(max_length=32)),
                ('thresholds', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('bonus_points', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('revocable', fields.BooleanField(default=False)),
                ('art', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('art_version', fields.IntField(default=1)),
                ('enabled', fields.BooleanField(default=True)),
                ('updated_by', fields.CharField(default='defaults', max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'badge_definitions', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BadgeAward',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField()),
                ('badge', fields.ForeignKeyField('laurel.BadgeDefinition', source_field='badge_id', db_constraint=True, to_field='id', related_name='awards', on_delete=OnDelete.RESTRICT)),
                ('level', fields.SmallIntField()),
                ('generation', fields.IntField(default=1)),
                ('bonus_points', fields.IntField(default=0)),
                ('awarded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('activity_id', fields.BigIntField(null=True)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_by', fields.CharField(null=True, max_length=128)),
                ('revoked_reason', fields.CharField(null=True, max_length=500)),
            ],
            options={'table': 'badge_awards', 'app': 'laurel', 'unique_together': (('member_id', 'badge_id', 'level'),), 'indexes': [Index(fields=['member_id', 'revoked_at']), Index(fields=['activity_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BadgeAssertion',
            fields=[
                ('token', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('award', fields.ForeignKeyField('laurel.BadgeAward', source_field='award_id', db_constraint=True, to_field='id', related_name='assertions', on_delete=OnDelete.RESTRICT)),
                ('generation', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'badge_assertions', 'app': 'laurel', 'unique_together': (('award_id', 'generation'),), 'pk_attr': 'token', 'table_description': 'An exported Open Badges assertion of one grant, its token the public id.'},
            bases=['Model'],
        ),
    ]
