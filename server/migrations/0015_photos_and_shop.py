from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("laurel", "0014_metrics_rollup")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Photo",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32),
                ),
                (
                    "member",
                    fields.ForeignKeyField(
                        "laurel.Member",
                        source_field="member_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="photos",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("width", fields.IntField()),
                ("height", fields.IntField()),
                ("etag", fields.CharField(max_length=40)),
                ("thumb_etag", fields.CharField(max_length=40)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "photos",
                "app": "laurel",
                "indexes": [Index(fields=["member_id", "created_at"])],
                "pk_attr": "id",
                "table_description": "An uploaded photo: its files are the id with .jpg and with .thumb.jpg.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ShopLogo",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("png", fields.BinaryField()),
                ("width", fields.IntField()),
                ("height", fields.IntField()),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "shop_logo",
                "app": "laurel",
                "pk_attr": "id",
                "table_description": "The logo as a PNG, apart so that reading the shop skips it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ShopProfile",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=100)),
                ("primary_color", fields.CharField(default="#256045", max_length=7)),
                ("accent_color", fields.CharField(default="#b7791f", max_length=7)),
                ("faq", fields.TextField(default="", unique=False)),
                ("logo_version", fields.CharField(null=True, max_length=16)),
                ("updated_by", fields.CharField(max_length=128)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "shop_profile",
                "app": "laurel",
                "pk_attr": "id",
                "table_description": "The owner's settings for the pages: a single row, id 1.",
            },
            bases=["Model"],
        ),
    ]
