from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # pghistory.admin registers its generic Events page; staff get ours instead (audit.admin),
        # with the channel and actor of every change. Both apps are ready by now (audit is last).
        from django.contrib import admin
        from pghistory.models import Events

        if admin.site.is_registered(Events):
            admin.site.unregister(Events)
