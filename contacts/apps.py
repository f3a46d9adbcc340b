from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Accounts and contacts"

    def ready(self) -> None:
        from billing_site import checks  # noqa: F401 - registers billing.W001 (shared cache)

        from . import schema  # noqa: F401 - registers the OpenAPI security scheme
