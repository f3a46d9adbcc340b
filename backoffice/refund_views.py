"""Refunds: money paid back to the customer from the account's credit (from the account page) or
of a payment (from its page: its allocations are first released into credit, with the reason).
Previewed in a `dry_run` and confirmed once (confirm_flow.py); the service refuses more than is
available. A refund's page lists what it released.
"""

from django.http import Http404
from django.urls import reverse
from django.views import View

from billing_site.money import format_amount
from contacts.models import Account
from payments.models import AllocationRelease
from payments.services import dry_run, refund_issue

from .access import StaffPageMixin
from .confirm_flow import PreviewConfirmView
from .credit_forms import RefundForm
from .credit_selectors import refund_with_releases
from .errors import get_or_404
from .selectors import payment_with_allocations


def refund_and_releases(**arguments):
    """The refund and its releases (read inside the service's transaction, for a preview)."""
    refund = refund_issue(**arguments)
    releases = list(
        AllocationRelease.objects.filter(refund=refund).select_related(
            "allocation__invoice", "allocation__billing_item"
        )
    )
    return refund, releases


class RefundView(PreviewConfirmView):
    """From the account's credit; `PaymentRefundView` for a refund of a payment."""

    template = "backoffice/refund_issue.html"
    confirm_label = "Record refund"
    kind = "refund"
    payment = None

    def load(self, pk):
        self.account = get_or_404(Account.objects, pk, "account")

    def make_form(self, data=None):
        return RefundForm(data, of_payment=self.payment is not None)

    def service(self):
        return refund_issue

    def preview_of(self, arguments):
        return dry_run(refund_and_releases, **arguments)

    def arguments(self, form):
        data = form.cleaned_data
        return {
            "account_id": self.account.pk,
            "payment_id": self.payment.pk if self.payment else None,
            "amount": data["amount"],
            "tender_type_id": data["tender_type"].pk,
            "refund_date": data["refund_date"],
            "reference": data["reference"],
            "reason": data["reason"],
        }

    def content(self, form):
        data = form.cleaned_data
        return {
            "account": self.account.pk,
            "payment": self.payment.pk if self.payment else None,
            "amount": format_amount(data["amount"]),
            "tender_type": data["tender_type"].pk,
            "refund_date": data["refund_date"].isoformat(),
            "reference": data["reference"],
            "reason": data["reason"],
        }

    def outcome(self, refund):
        message = (
            f"Recorded refund {refund.number}: {format_amount(refund.amount)} {refund.currency}."
        )
        return message, reverse("backoffice:refund", args=[refund.pk])

    def page(self):
        return {"account": self.account, "payment": self.payment}


class PaymentRefundView(RefundView):
    kind = "payment-refund"

    def load(self, pk):
        self.payment = payment_with_allocations(pk)
        if self.payment is None:
            raise Http404(f"No payment {pk}")
        self.account = self.payment.account


class RefundPageView(StaffPageMixin, View):
    def get(self, request, pk: int):
        refund = refund_with_releases(pk)
        if refund is None:
            raise Http404(f"No refund {pk}")
        return self.render("backoffice/refund.html", refund=refund)
