"""django-csp's middleware, without its cost on the paths its settings exclude.

django-csp 4 builds the policy string (and the report-only one) for every response, and only then
looks at `EXCLUDE_URL_PREFIXES` and drops it. The APIs' paths are excluded (they answer JSON, no
page a policy could protect), and are most of the requests: there the header is never written, so
the policy is not built either. Everything else is django-csp's own.
"""

from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.conf import settings


def _excluded_prefixes(setting: str) -> tuple[str, ...] | None:
    """The setting's excluded path prefixes; None when the setting is off (no policy at all)."""
    policy = getattr(settings, setting, None)
    if not policy:
        return None
    return tuple(policy.get("EXCLUDE_URL_PREFIXES") or ())


def writes_no_policy(path_info: str) -> bool:
    """Whether django-csp would write neither header for `path_info`."""
    for setting in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        prefixes = _excluded_prefixes(setting)
        if prefixes is not None and not path_info.startswith(prefixes):
            return False
    return True


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request, response):
        if writes_no_policy(request.path_info):
            return response
        return super().process_response(request, response)
