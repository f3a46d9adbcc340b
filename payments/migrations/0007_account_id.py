# Payment allocations, reversals and write-downs carry their account (the partition and
# distribution key of the money tables, docs/scaling.md "Past one primary"): added nullable,
# backfilled from the parent (the payment's account, the billing item's), then NOT NULL and tied
# to the parent by composite foreign keys (billing_site/account_keys.py); a contact's payment is
# tied to the contact's account the same way.
#
# These tables are immutable: the backfill's UPDATE would be refused by each table's
# pgtrigger_immutable_* trigger, and no session setting lifts it (audit/lockdown.py). So, as the
# tables' owner, the migration disables that one trigger with DDL, backfills and enables it
# again, all in the migration's transaction: no other session ever sees the trigger off.
# SQLite (the quick start) has no triggers: the UPDATE alone.

import django.db.models.deletion
from django.db import migrations, models

from billing_site.account_keys import AddAccountForeignKey

# table: (its immutable trigger, as installed by payments/0006; the backfill)
BACKFILL = {
    "payments_paymentallocation": (
        "pgtrigger_immutable_c983a",
        "UPDATE payments_paymentallocation SET account_id = (SELECT p.account_id"
        " FROM payments_payment p WHERE p.id = payments_paymentallocation.payment_id)"
        " WHERE account_id IS NULL",
    ),
    "payments_reversal": (
        "pgtrigger_immutable_8996f",
        "UPDATE payments_reversal SET account_id = (SELECT p.account_id"
        " FROM payments_payment p WHERE p.id = payments_reversal.payment_id)"
        " WHERE account_id IS NULL",
    ),
    "payments_writedown": (
        "pgtrigger_immutable_aac6d",
        "UPDATE payments_writedown SET account_id = (SELECT b.account_id"
        " FROM invoices_billingitem b WHERE b.id = payments_writedown.billing_item_id)"
        " WHERE account_id IS NULL",
    ),
}


def backfill(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for table, (trigger, update) in BACKFILL.items():
        if postgresql:
            schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        schema_editor.execute(update)
        if postgresql:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


def account(related_name, *, null):
    return models.ForeignKey(
        db_index=False,
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name=related_name,
        to="contacts.account",
    )


ACCOUNTS = [
    ("paymentallocation", "payment_allocations"),
    ("reversal", "reversals"),
    ("writedown", "write_downs"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0004_contact_account_key"),
        ("invoices", "0003_account_id"),
        ("payments", "0006_immutable_money_rows"),
    ]

    operations = [
        *(
            migrations.AddField(
                model_name=model, name="account", field=account(related_name, null=True)
            )
            for model, related_name in ACCOUNTS
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        *(
            migrations.AlterField(
                model_name=model, name="account", field=account(related_name, null=False)
            )
            for model, related_name in ACCOUNTS
        ),
        migrations.AddIndex(
            model_name="paymentallocation",
            index=models.Index(fields=["account", "payment"], name="allocation_account_payment"),
        ),
        migrations.AddIndex(
            model_name="reversal",
            index=models.Index(fields=["account", "reversed_at"], name="reversal_account_date"),
        ),
        migrations.AddIndex(
            model_name="writedown",
            index=models.Index(
                fields=["account", "write_down_date"], name="write_down_account_date"
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                fields=("account", "id"), name="payment_account_key"
            ),
        ),
        AddAccountForeignKey(
            table="payments_payment",
            column="contact_id",
            parent_table="contacts_contact",
            name="payment_account_is_contacts",
        ),
        AddAccountForeignKey(
            table="payments_paymentallocation",
            column="payment_id",
            parent_table="payments_payment",
            name="allocation_account_is_payments",
        ),
        AddAccountForeignKey(
            table="payments_paymentallocation",
            column="invoice_id",
            parent_table="invoices_invoice",
            name="allocation_account_is_invoices",
        ),
        AddAccountForeignKey(
            table="payments_paymentallocation",
            column="billing_item_id",
            parent_table="invoices_billingitem",
            name="allocation_account_is_billing_items",
        ),
        AddAccountForeignKey(
            table="payments_reversal",
            column="payment_id",
            parent_table="payments_payment",
            name="reversal_account_is_payments",
        ),
        AddAccountForeignKey(
            table="payments_writedown",
            column="billing_item_id",
            parent_table="invoices_billingitem",
            name="write_down_account_is_billing_items",
        ),
    ]
