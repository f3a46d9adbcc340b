from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .events import BillingEventViewSet
from .views import (
    BillingInvoiceViewSet,
    BillingPaymentViewSet,
    PastDueInvoicesViewSet,
    seed_mounted,
)


def _routes(mount=lambda viewset: viewset) -> list:
    router = SimpleRouter(trailing_slash=False)
    router.register(
        "billing_invoices_past_due",
        mount(PastDueInvoicesViewSet),
        basename="billing-invoices-past-due",
    )
    router.register("billing_invoices", mount(BillingInvoiceViewSet), basename="billing-invoices")
    router.register("billing_payments", mount(BillingPaymentViewSet), basename="billing-payments")
    router.register("billing_events", mount(BillingEventViewSet), basename="billing-events")
    return router.urls


urlpatterns = [
    path(
        "restapi/v2.1/accounts/<str:account_id>/",
        include((_routes(), "docusign"), namespace="docusign"),
    ),
    path(
        "v2.1/accounts/<str:account_id>/",
        include((_routes(seed_mounted), "docusign-seed"), namespace="docusign-seed"),
    ),
]
