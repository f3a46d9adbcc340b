"""Drop the simple foreign keys that the composite account keys already imply.

An allocation's (payment_id, account_id), (invoice_id, account_id) and (billing_item_id,
account_id) reference their parent's unique (id, account_id) (migration 0007): a row naming a
parent that does not exist is refused by those. A payment's (contact_id, account_id) references
its contact's likewise. The simple keys Django made beside them checked the same rows again, each
at COMMIT: three more checks per allocation, one per payment. The account keeps its own key, as
on every money table. Dropping a constraint re-validates nothing.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0005_account_role_by_credential'),
        ('invoices', '0003_account_id'),
        ('payments', '0008_redundant_foreign_key_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='payment',
            name='contact',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='contacts.contact'),
        ),
        migrations.AlterField(
            model_name='paymentallocation',
            name='billing_item',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='invoices.billingitem'),
        ),
        migrations.AlterField(
            model_name='paymentallocation',
            name='invoice',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='invoices.invoice'),
        ),
        migrations.AlterField(
            model_name='paymentallocation',
            name='payment',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='payments.payment'),
        ),
    ]
