"""Apply an account's credit; issue a credit note against an invoice, and read it (page, PDF).

Both move money through payments.services only, previewed in a `dry_run` and confirmed once
(confirm_flow.py). Who may record payments may do these; the read-only Finance user may read the
credit note.
"""

from django.http import Http404
from django.urls import reverse
from django.views import View

from billing_site.money import format_amount
from contacts.models import Account
from invoices.models import Invoice
from payments.services import credit_apply, credit_note_issue

from .access import StaffPageMixin
from .confirm_flow import PreviewConfirmView
from .credit_forms import ApplyCreditForm, CreditNoteForm
from .credit_note_pdf import credit_note_response
from .credit_selectors import (
    credit_note_with_lines,
    next_credit_note_number,
    open_billing_items,
    open_invoices,
)
from .errors import get_or_404


class ApplyCreditView(PreviewConfirmView):
    kind = "apply-credit"
    template = "backoffice/apply_credit.html"
    confirm_label = "Apply credit"

    def load(self, pk):
        self.account = get_or_404(Account.objects, pk, "account")
        self.invoices = open_invoices(self.account)
        self.items = open_billing_items(self.account)

    def make_form(self, data=None):
        return ApplyCreditForm(data, invoices=self.invoices, items=self.items)

    def service(self):
        return credit_apply

    def arguments(self, form):
        return {
            "account_id": self.account.pk,
            "invoice_ids": form.cleaned_data["invoices"],
            "billing_item_ids": form.cleaned_data["billing_items"],
            "amount": form.cleaned_data["amount"],
            "notes": form.cleaned_data["notes"],
        }

    def content(self, form):
        amount = form.cleaned_data["amount"]
        return {
            "account": self.account.pk,
            "invoices": sorted(form.cleaned_data["invoices"]),
            "billing_items": sorted(form.cleaned_data["billing_items"]),
            "amount": None if amount is None else format_amount(amount),
            "notes": form.cleaned_data["notes"],
        }

    def outcome(self, result):
        message = (
            f"Applied {format_amount(result.amount)} {self.account.currency} of credit; "
            f"the account holds {format_amount(result.credit_balance)} {self.account.currency}."
        )
        return message, reverse("backoffice:account", args=[self.account.pk]) + "#credit"

    def page(self):
        return {"account": self.account}

    def show(self, form, **extra):
        applied = extra.get("preview")
        rows = [
            {
                "invoice": a.invoice,
                "item": a.billing_item,
                "before": (a.invoice or a.billing_item).balance + a.amount,
                "applied": a.amount,
                "after": (a.invoice or a.billing_item).balance,
            }
            for a in (applied.applications if applied else [])
        ]
        return super().show(form, preview_rows=rows, **extra)


class CreditNoteIssueView(PreviewConfirmView):
    kind = "credit-note"
    template = "backoffice/credit_note_issue.html"
    confirm_label = "Issue credit note"

    def load(self, pk):
        self.invoice = get_or_404(Invoice.objects.select_related("account"), pk, "invoice")

    def make_form(self, data=None):
        initial = None if data else {"number": next_credit_note_number(self.invoice)}
        return CreditNoteForm(data, initial=initial)

    def service(self):
        return credit_note_issue

    def arguments(self, form):
        data = form.cleaned_data
        return {
            "invoice_id": self.invoice.pk,
            "number": data["number"],
            "issue_date": data["issue_date"],
            "reason": data["reason"],
            "lines": form.lines.lines(),
            "excess_to_credit": data["excess_to_credit"],
        }

    def content(self, form):
        data = form.cleaned_data
        return {
            "invoice": self.invoice.pk,
            "number": data["number"],
            "issue_date": data["issue_date"].isoformat(),
            "reason": data["reason"],
            "lines": [
                [line.description, format_amount(line.amount)] for line in form.lines.lines()
            ],
            "excess_to_credit": data["excess_to_credit"],
        }

    def outcome(self, note):
        currency = self.invoice.account.currency
        message = f"Issued credit note {note.number}: {format_amount(note.amount)} {currency}."
        return message, reverse("backoffice:credit-note", args=[note.pk])

    def page(self):
        return {"invoice": self.invoice, "currency": self.invoice.account.currency}


class CreditNoteView(StaffPageMixin, View):
    def get(self, request, pk: int):
        note = credit_note_with_lines(pk)
        if note is None:
            raise Http404(f"No credit note {pk}")
        return self.render("backoffice/credit_note.html", note=note)


class CreditNotePdfView(StaffPageMixin, View):
    def get(self, request, pk: int):
        note = credit_note_with_lines(pk)
        if note is None:
            raise Http404(f"No credit note {pk}")
        return credit_note_response(note)
