"""The product's paths (those bench/load.py drives), answered by the reference views."""

from django.urls import path

from . import views

ACCOUNT = "restapi/v2.1/accounts/<int:number>/"

urlpatterns = [
    path("healthz", views.healthz),
    path("POS/BillingPayments", views.BillingPayments.as_view()),
    path("POS/Billings", views.Billings.as_view()),
    path(f"{ACCOUNT}billing_payments", views.AccountPayments.as_view()),
    path(f"{ACCOUNT}billing_payments/<int:payment_id>", views.OnePayment.as_view()),
    path(f"{ACCOUNT}billing_invoices_past_due", views.PastDue.as_view()),
]
