import secrets

from django.db import migrations, models

import clubs.models


def give_every_membership_a_token(apps, schema_editor):
    Membership = apps.get_model("clubs", "Membership")
    for membership in Membership.objects.filter(feed_token__isnull=True).iterator():
        membership.feed_token = secrets.token_urlsafe(24)
        membership.save(update_fields=["feed_token"])


class Migration(migrations.Migration):
    dependencies = [
        ("clubs", "0002_membership_feed_token"),
    ]

    operations = [
        migrations.RunPython(give_every_membership_a_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membership",
            name="feed_token",
            field=models.CharField(
                default=clubs.models.new_feed_token, max_length=64, unique=True
            ),
        ),
    ]
