"""Included by billing_site/urls.py under /backoffice/ in the "backoffice" namespace."""

from django.urls import path

from statements.views import StatementFileView, StatementPageView

from . import (
    contact_list,
    credit_views,
    detail_views,
    exports,
    payment_views,
    refund_views,
    search_views,
    views,
)

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("past-due/", views.PastDueView.as_view(), name="past-due"),
    path("past-due/export.csv", exports.PastDueCsvView.as_view(), name="past-due-csv"),
    path("past-due/export.xlsx", exports.PastDueXlsxView.as_view(), name="past-due-xlsx"),
    path("accounts/", search_views.AccountListView.as_view(), name="accounts"),
    path("contacts/", contact_list.ContactListView.as_view(), name="contacts"),
    path("search/", search_views.SearchView.as_view(), name="search"),
    path("accounts/<int:pk>/", views.AccountView.as_view(), name="account"),
    path("accounts/<int:pk>/pay/", payment_views.AccountPayView.as_view(), name="account-pay"),
    path(
        "accounts/<int:pk>/statement/",
        StatementPageView.as_view(kind="account"),
        name="account-statement",
    ),
    path(
        "accounts/<int:pk>/statement.pdf",
        StatementFileView.as_view(kind="account", extension="pdf"),
        name="account-statement-pdf",
    ),
    path(
        "accounts/<int:pk>/statement.csv",
        StatementFileView.as_view(kind="account", extension="csv"),
        name="account-statement-csv",
    ),
    path("contacts/<int:pk>/", views.ContactView.as_view(), name="contact"),
    path(
        "contacts/<int:pk>/statement/",
        StatementPageView.as_view(kind="contact"),
        name="contact-statement",
    ),
    path(
        "contacts/<int:pk>/statement.pdf",
        StatementFileView.as_view(kind="contact", extension="pdf"),
        name="contact-statement-pdf",
    ),
    path(
        "contacts/<int:pk>/statement.csv",
        StatementFileView.as_view(kind="contact", extension="csv"),
        name="contact-statement-csv",
    ),
    path("contacts/<int:pk>/pay/", payment_views.ContactPayView.as_view(), name="contact-pay"),
    path("invoices/<int:pk>/", detail_views.InvoiceView.as_view(), name="invoice"),
    path("invoices/<int:pk>/pdf", detail_views.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("payments/<int:pk>/", detail_views.PaymentView.as_view(), name="payment"),
    path(
        "payments/<int:pk>/reverse/",
        payment_views.PaymentReverseView.as_view(),
        name="payment-reverse",
    ),
    path(
        "accounts/<int:pk>/apply-credit/",
        credit_views.ApplyCreditView.as_view(),
        name="account-apply-credit",
    ),
    path("accounts/<int:pk>/refund/", refund_views.RefundView.as_view(), name="account-refund"),
    path(
        "payments/<int:pk>/refund/",
        refund_views.PaymentRefundView.as_view(),
        name="payment-refund",
    ),
    path("refunds/<int:pk>/", refund_views.RefundPageView.as_view(), name="refund"),
    path(
        "invoices/<int:pk>/credit-note/",
        credit_views.CreditNoteIssueView.as_view(),
        name="invoice-credit-note",
    ),
    path("credit-notes/<int:pk>/", credit_views.CreditNoteView.as_view(), name="credit-note"),
    path(
        "credit-notes/<int:pk>/pdf",
        credit_views.CreditNotePdfView.as_view(),
        name="credit-note-pdf",
    ),
]
