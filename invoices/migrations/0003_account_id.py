# Invoice items and billing items carry their account (the partition and distribution key of the
# money tables, docs/scaling.md "Past one primary"): added nullable, backfilled from the parent
# (the invoice's account, the contact's account), then NOT NULL and tied to the parent by a
# composite foreign key (billing_site/account_keys.py).
#
# The billing items' audit_update trigger is replaced first: the event model does not copy
# `account` (audit/models.py), so the backfill, which changes nothing else, records no event.

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

from billing_site.account_keys import AddAccountForeignKey

# Portable SQL (PostgreSQL and the quick start's SQLite); neither table is immutable.
BACKFILL = [
    "UPDATE invoices_invoiceitem SET account_id = (SELECT i.account_id FROM invoices_invoice i"
    " WHERE i.id = invoices_invoiceitem.invoice_id) WHERE account_id IS NULL",
    "UPDATE invoices_billingitem SET account_id = (SELECT c.account_id FROM contacts_contact c"
    " WHERE c.id = invoices_billingitem.contact_id) WHERE account_id IS NULL",
]


def backfill(apps, schema_editor):
    for statement in BACKFILL:
        schema_editor.execute(statement)


def account(related_name, *, null):
    return models.ForeignKey(
        db_index=False,
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name=related_name,
        to="contacts.account",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0004_contact_account_key"),
        ("invoices", "0002_audit_triggers"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="billingitem",
            name="audit_update",
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="billingitem",
            trigger=pgtrigger.compiler.Trigger(name='audit_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."balance" IS DISTINCT FROM (NEW."balance") OR OLD."contact_id" IS DISTINCT FROM (NEW."contact_id") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."description" IS DISTINCT FROM (NEW."description") OR OLD."due_date" IS DISTINCT FROM (NEW."due_date") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."total_amount" IS DISTINCT FROM (NEW."total_amount"))', func='INSERT INTO "audit_billingitemevent" ("balance", "contact_id", "created_at", "description", "due_date", "id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "total_amount") VALUES (NEW."balance", NEW."contact_id", NEW."created_at", NEW."description", NEW."due_date", NEW."id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."total_amount"); RETURN NULL;', hash='930f857fb59e06602776a6bbe73e337c4f36886e', operation='UPDATE', pgid='pgtrigger_audit_update_5cfd6', table='invoices_billingitem', when='AFTER')),  # noqa: E501
        ),
        migrations.AddField(
            model_name="invoiceitem",
            name="account",
            field=account("invoice_items", null=True),
        ),
        migrations.AddField(
            model_name="billingitem",
            name="account",
            field=account("billing_items", null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="invoiceitem",
            name="account",
            field=account("invoice_items", null=False),
        ),
        migrations.AlterField(
            model_name="billingitem",
            name="account",
            field=account("billing_items", null=False),
        ),
        migrations.AddIndex(
            model_name="invoiceitem",
            index=models.Index(fields=["account", "invoice"], name="invoice_item_account"),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.UniqueConstraint(
                fields=("account", "id"), name="invoice_account_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="billingitem",
            constraint=models.UniqueConstraint(
                fields=("account", "id"), name="billing_item_account_key"
            ),
        ),
        AddAccountForeignKey(
            table="invoices_invoiceitem",
            column="invoice_id",
            parent_table="invoices_invoice",
            name="invoice_item_account_is_invoices",
        ),
        AddAccountForeignKey(
            table="invoices_billingitem",
            column="contact_id",
            parent_table="contacts_contact",
            name="billing_item_account_is_contacts",
        ),
    ]
