"""System checks of the deployment. Registered by contacts' AppConfig.ready()."""

from django.conf import settings
from django.core import checks

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.caches)
def check_shared_cache(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The API rate limits are counted in the default cache: it must be shared by every worker."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        checks.Warning(
            f"The cache is not shared ({backend.rsplit('.', 1)[-1]}): the API rate limits are "
            "counted per process, so they do not hold across workers or servers.",
            hint="Set REDIS_URL (e.g. redis://127.0.0.1:6379/0). Fine for the quick start only.",
            id="billing.W001",
        )
    ]
