"""The Finance group sees the credit rows too (applications, releases, refunds, credit notes): the
first migration's step again, now that they exist; granting what the group holds already is
harmless."""

import importlib

from django.db import migrations

first = importlib.import_module("backoffice.migrations.0001_finance_group")


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0002_confirmed_preview"),
        ("payments", "0012_credit_notes"),
    ]

    operations = [migrations.RunPython(first.create_finance_group, migrations.RunPython.noop)]
