"""The read-only "Finance" group: every view_* permission of the contacts, invoices and payments
models. Permissions are only created after `migrate` has run (post_migrate), so they are created
here first; doing it twice is harmless."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FINANCE_GROUP = "Finance"
APPS = ("contacts", "invoices", "payments")


def create_finance_group(apps, schema_editor):
    for label in APPS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # the migration state has none; create_permissions asks
        create_permissions(
            app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias
        )
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=FINANCE_GROUP)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=APPS, codename__startswith="view_"
        )
    )


def delete_finance_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=FINANCE_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("contacts", "0001_initial"),
        ("invoices", "0001_initial"),
        ("payments", "0003_idempotency_record"),
    ]

    operations = [migrations.RunPython(create_finance_group, delete_finance_group)]
