"""Legend's preset tender types. Staff may add more, or deactivate these, in the admin."""

from django.db import migrations

PRESETS = [
    (1, "Cash"),
    (2, "Cheque"),
    (3, "Card"),
    (4, "E Card"),
    (5, "Credit"),
    (6, "Credit Note"),
    (7, "Voucher"),
    (8, "EFT"),
    (28, "External Payment"),
]


def add_presets(apps, schema_editor):
    TenderType = apps.get_model("payments", "TenderType")
    for pk, name in PRESETS:
        TenderType.objects.get_or_create(pk=pk, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(add_presets, migrations.RunPython.noop)]
