from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # pghistory.admin registers its generic Events page; staff get ours instead (audit.admin),
        # with the channel and actor of every change. Both apps are ready by now (audit is last).
        from django.contrib import admin
        from django.db.models.signals import post_migrate
        from pghistory.models import Events

        from .lockdown import lock_down_trigger_bypass

        # After every migrate (and the test database's), whatever migrations ran before it.
        post_migrate.connect(lock_down_trigger_bypass, sender=self, dispatch_uid="audit.lockdown")

        if admin.site.is_registered(Events):
            admin.site.unregister(Events)
