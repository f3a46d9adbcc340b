# A contact is unique on (account_id, id) too: what billing items and payments reference with
# (contact_id, account_id), so that their account is the contact's (billing_site/account_keys.py).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0003_audit_triggers"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="contact",
            constraint=models.UniqueConstraint(
                fields=("account", "id"), name="contact_account_key"
            ),
        ),
    ]
