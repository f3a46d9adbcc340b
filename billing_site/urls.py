from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views import defaults
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from backoffice import errors as backoffice_errors
from payments.docusign.errors import page_not_found as docusign_page_not_found
from payments.legend.errors import page_not_found as legend_page_not_found

admin.site.site_header = "Billing back office"
admin.site.site_title = "Billing back office"
admin.site.index_title = "Accounts, invoices and payments"
admin.site.site_url = "/backoffice/"  # "View site" opens the finance back office
# No navigation sidebar (Home lists the same models): its 300 pixels are the room that a
# changelist's amounts need beside its filters on a 1366-pixel screen.
admin.site.enable_nav_sidebar = False


def healthz(request):
    """The load balancer's probe: this app server answers (no database, no session)."""
    return HttpResponse("ok\n", content_type="text/plain")


DOCS_CSP = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="backoffice:dashboard"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("backoffice/", include(("backoffice.urls", "backoffice"), namespace="backoffice")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs pages' scripts are files (the split view serves Swagger UI's set-up script as one);
    # both UIs style themselves inline, and ReDoc renders in a blob: worker.
    path(
        "api/docs/",
        DOCS_CSP(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        DOCS_CSP(SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")),
        name="api-redoc",
    ),
    path("", include("oauth.urls")),
    path("", include("payments.docusign.urls")),
    path("", include("payments.legend.urls")),
]

# An unknown path under an API mount answers in that API's error format, not Django's HTML page.
API_NOT_FOUND = {
    "/restapi/v2.1/": docusign_page_not_found,
    "/v2.1/": docusign_page_not_found,
    "/POS/": legend_page_not_found,
}


BACKOFFICE = "/backoffice/"  # its own styled 403 and 404 pages


def handler404(request, exception):
    for prefix, view in API_NOT_FOUND.items():
        if request.path.startswith(prefix):
            return view(request, exception)
    if request.path.startswith(BACKOFFICE):
        return backoffice_errors.page_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def handler403(request, exception):
    if request.path.startswith(BACKOFFICE):
        return backoffice_errors.permission_denied(request, exception)
    return defaults.permission_denied(request, exception)
