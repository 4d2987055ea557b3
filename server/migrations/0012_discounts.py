from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('laurel', '0011_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DiscountCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField(db_index=True)),
                ('points', fields.IntField()),
                ('value_cents', fields.IntField()),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('idempotency_key', fields.CharField(unique=True, max_length=255)),
                ('request_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'discount_codes', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DiscountRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('points_per_currency_unit', fields.IntField(default=100)),
                ('min_points', fields.IntField(default=500)),
                ('max_points', fields.IntField(default=5000)),
                ('step_points', fields.IntField(default=100)),
                ('enabled', fields.BooleanField(default=True)),
                ('updated_by', fields.CharField(default='defaults', max_length=120)),
            ],
            options={'table': 'discount_rules', 'app': 'laurel', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
