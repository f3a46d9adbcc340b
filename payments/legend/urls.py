from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .views import BillingPaymentsViewSet, BillingsViewSet, BillingWriteDownsViewSet

router = SimpleRouter(trailing_slash=False)
router.register("BillingPayments", BillingPaymentsViewSet, basename="billing-payments")
router.register("BillingWriteDowns", BillingWriteDownsViewSet, basename="billing-write-downs")
router.register("Billings", BillingsViewSet, basename="billings")

urlpatterns = [path("POS/", include((router.urls, "legend"), namespace="legend"))]
