from tortoise import migrations
from tortoise.migrations import operations as ops
from server.rewards.experiments import TargetKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('laurel', '0015_photos_and_shop')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Experiment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=80)),
                ('target_kind', fields.CharEnumField(description='EARNING_RULE: EARNING_RULE\nBADGE: BADGE\nTIER_MULTIPLIER: TIER_MULTIPLIER\nCONTEST: CONTEST', enum_type=TargetKind, max_length=16)),
                ('target_ref', fields.CharField(default='', max_length=64)),
                ('holdout_percent', fields.IntField()),
                ('salt', fields.CharField(max_length=32)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(max_length=128)),
                ('ended_by', fields.CharField(null=True, max_length=128)),
                ('live_target', fields.CharField(null=True, unique=True, max_length=96)),
            ],
            options={'table': 'experiments', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
