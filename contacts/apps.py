from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Accounts and contacts"

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI security scheme
