from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("number", models.CharField(max_length=40)),
                ("shipped", models.BooleanField(default=False)),
                ("note", models.CharField(default="", max_length=200)),
            ],
        ),
    ]
