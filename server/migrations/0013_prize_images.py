from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('laurel', '0012_discounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PrizeImage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('prize', fields.OneToOneField('laurel.Prize', source_field='prize_id', db_constraint=True, to_field='id', related_name='image', on_delete=OnDelete.CASCADE)),
                ('png', fields.BinaryField()),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('updated_by', fields.CharField(max_length=128)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'prize_images', 'app': 'laurel', 'pk_attr': 'id', 'table_description': "A prize's picture, drawn again from the upload."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Prize',
            name='image_version',
            field=fields.CharField(null=True, max_length=16),
        ),
    ]
