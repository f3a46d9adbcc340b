"""Drop the single-column indexes of four foreign keys that other indexes lead with.

payments_payment.account_id and contact_id: (account_id, payment_date), (account_id, id) and
(contact_id, payment_date) serve every lookup by them. payments_idempotencyrecord.credential_id
and user_id: the unique (owner, key) indexes do (a cascade's `WHERE credential_id = %s` implies the
partial index's `IS NOT NULL`). Each payment and each keyed request wrote two index entries fewer.

Only the indexes are dropped: Django's AlterField would also drop and re-add the foreign keys,
re-validating every payment under a lock that stops writes.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0005_account_role_by_credential"),
        ("payments", "0007_account_id"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="idempotencyrecord",
                    name="credential",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="contacts.apicredential",
                    ),
                ),
                migrations.AlterField(
                    model_name="idempotencyrecord",
                    name="user",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="payment",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payments",
                        to="contacts.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="payment",
                    name="contact",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payments",
                        to="contacts.contact",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "payments_idempotencyrecord_credential_id_aac293bc"',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "payments_idempotencyrecord_credential_id_aac293bc" ON "payments_idempotencyrecord" ("credential_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "payments_idempotencyrecord_user_id_7c64f28e"',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "payments_idempotencyrecord_user_id_7c64f28e" ON "payments_idempotencyrecord" ("user_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "payments_payment_account_id_af225a32"',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "payments_payment_account_id_af225a32" ON "payments_payment" ("account_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "payments_payment_contact_id_6f71f332"',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "payments_payment_contact_id_6f71f332" ON "payments_payment" ("contact_id")',
                ),
            ],
        ),
    ]
