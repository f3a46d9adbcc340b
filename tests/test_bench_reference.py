"""The load benchmark's reference project (bench/reference/) answers the paths bench/load.py
drives: its URLconf imports and resolves each of them to its view. The benchmark itself is not a
test (bench/README.md)."""

import pytest
from django.urls import resolve

from bench.reference import views

URLCONF = "bench.reference.urls"


@pytest.mark.parametrize(
    ("path", "view"),
    [
        ("/healthz", views.healthz),
        ("/POS/BillingPayments", views.BillingPayments),
        ("/POS/Billings", views.Billings),
        ("/restapi/v2.1/accounts/700001/billing_payments", views.AccountPayments),
        ("/restapi/v2.1/accounts/700001/billing_payments/42", views.OnePayment),
        ("/restapi/v2.1/accounts/700001/billing_invoices_past_due", views.PastDue),
    ],
)
def test_reference_urls_resolve(path, view):
    match = resolve(path, urlconf=URLCONF)
    assert getattr(match.func, "view_class", match.func) is view
