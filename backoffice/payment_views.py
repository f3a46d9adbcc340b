"""The pages that move money: record a payment (account or contact), reverse one.

"Preview" runs the money service in a `dry_run` (rolled back) and shows what it would settle,
with a signed token of it; "Record payment" runs it for real, only if the token says that exactly
this was previewed (`previews`): otherwise it previews again, with a warning. A token records
once: confirming it again records nothing and redirects to the payment it recorded, with a
warning. A refusal (`PaymentError`) becomes a form error: the page answers 200 with the form, and
nothing is written.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View

from billing_site.money import format_amount
from contacts.models import Account, Contact
from invoices.selectors import contact_billing_items, past_due_summary
from payments.errors import PaymentError
from payments.services import billing_items_pay, dry_run, invoices_pay, payment_reverse

from . import previews
from .access import RecordPaymentMixin, ReversePaymentMixin
from .errors import get_or_404
from .forms import AccountPayForm, ContactPayForm, ReverseForm
from .selectors import payment_with_allocations
from .settlement import billing_item_rows, invoices_settlement

CONFIRM = "confirm"  # the "Record payment" button's value; anything else previews


def recorded(payment) -> str:
    return f"Recorded payment {payment.number}: {format_amount(payment.amount)} {payment.currency}."


class PayView(RecordPaymentMixin, View):
    kind: str  # previews.ACCOUNT or previews.CONTACT

    def repeated(self):
        """For a confirm of a preview that already recorded its payment: the redirect to it."""
        if self.request.POST.get("action") != CONFIRM:
            return None
        token = self.request.POST.get(previews.FIELD)
        payment = previews.recorded_by(self.kind, token, self.request.user)
        return None if payment is None else self.already_recorded(payment)

    def already_recorded(self, payment):
        """Nothing more recorded: say so, and show the payment where it is listed."""
        messages.warning(self.request, previews.already_recorded(payment))
        if payment.contact_id is not None:
            page = reverse("backoffice:contact", args=[payment.contact_id])
        else:
            page = reverse("backoffice:account", args=[payment.account_id])
        return redirect(f"{page}#payment-{payment.pk}")

    def record_once(self, record):
        """`record()`, at most once for the confirmed token (`previews.record_once`)."""
        return previews.record_once(self.request.POST[previews.FIELD], record)

    def confirmed(self, kind: str, shown: dict) -> bool:
        """Whether this post confirms exactly `shown`, as previewed; a confirm of anything else
        gets a warning (and the caller previews it again)."""
        if self.request.POST.get("action") != CONFIRM:
            return False
        if previews.confirms(kind, self.request.POST.get(previews.FIELD), shown):
            return True
        messages.warning(self.request, previews.CHANGED)
        return False


class AccountPayView(PayView):
    template = "backoffice/account_pay.html"
    kind = previews.ACCOUNT

    def get(self, request, pk: int):
        summary = past_due_summary(get_or_404(Account.objects, pk, "account"))
        form = AccountPayForm(invoices=summary.invoices)
        return self.render(self.template, summary=summary, form=form)

    def post(self, request, pk: int):
        account = get_or_404(Account.objects, pk, "account")
        if repeated := self.repeated():
            return repeated
        summary = past_due_summary(account)
        form = AccountPayForm(request.POST, invoices=summary.invoices)
        settlement = token = None
        if not form.is_valid() and (repeated := self.repeated()):
            # The same preview confirmed again while the first confirm was recording it (the
            # invoices it paid in full are no longer offered, so the form is no longer valid).
            return repeated
        if form.is_valid():
            payment = {
                "account_id": summary.account.pk,
                "amount": form.cleaned_data["amount"],
                "invoice_ids": form.cleaned_data["invoices"],
                "past_due_only": True,
                "excess_to_credit": form.cleaned_data["to_credit"],
                **form.details(),
                "actor": self.actor(),
            }
            shown = previews.account_payment(summary.account, form.cleaned_data, request.user)
            try:
                if self.confirmed(previews.ACCOUNT, shown):
                    paid = self.record_once(lambda: invoices_pay(**payment))
                    messages.success(request, recorded(paid.payment))
                    return redirect("backoffice:account", pk=summary.account.pk)
                settlement = invoices_settlement(dry_run(invoices_pay, **payment))
                token = previews.sign(previews.ACCOUNT, shown)
            except previews.AlreadyRecorded as repeat:
                return self.already_recorded(repeat.payment)
            except PaymentError as refusal:
                form.add_error(None, refusal.message)
        return self.render(
            self.template, summary=summary, form=form, settlement=settlement, preview_token=token
        )


class ContactPayView(PayView):
    template = "backoffice/contact_pay.html"
    kind = previews.CONTACT

    def get(self, request, pk: int):
        contact = get_or_404(Contact.objects.select_related("account"), pk, "contact")
        form = ContactPayForm(items=list(contact_billing_items(contact, outstanding_only=True)))
        return self.render(self.template, contact=contact, form=form, rows=billing_item_rows(form))

    def post(self, request, pk: int):
        contact = get_or_404(Contact.objects.select_related("account"), pk, "contact")
        if repeated := self.repeated():
            return repeated
        items = list(contact_billing_items(contact, outstanding_only=True))
        form = ContactPayForm(request.POST, items=items)
        paid = token = None
        if not form.is_valid() and (repeated := self.repeated()):
            return repeated  # as for an account: its items were settled meanwhile
        if form.is_valid():
            payment = {
                "contact": contact,
                **form.details(),
                "lines": form.cleaned_data["lines"],
                "actor": self.actor(),
            }
            shown = previews.contact_payment(contact, form.cleaned_data, request.user)
            try:
                if self.confirmed(previews.CONTACT, shown):
                    paid = self.record_once(lambda: billing_items_pay(**payment))
                    if paid.payment is not None:
                        self._report(paid)
                        return redirect("backoffice:contact", pk=contact.pk)
                    form.add_error(None, "No line could be applied: nothing was recorded.")
                else:
                    paid = dry_run(billing_items_pay, **payment)
                    token = previews.sign(previews.CONTACT, shown)
            except previews.AlreadyRecorded as repeat:
                return self.already_recorded(repeat.payment)
            except PaymentError as refusal:
                form.add_error(None, refusal.message)
        return self.render(
            self.template,
            contact=contact,
            form=form,
            rows=billing_item_rows(form, paid),
            paid=paid,
            preview_token=token,
        )

    def _report(self, paid) -> None:
        messages.success(self.request, recorded(paid.payment))
        for line in paid.lines:
            if not line.is_applied:
                messages.error(self.request, f"Not applied: {line.message}")


class PaymentReverseView(ReversePaymentMixin, View):
    template = "backoffice/payment_reverse.html"

    def get(self, request, pk: int):
        payment = self._payment(pk)
        return self.render(self.template, payment=payment, form=ReverseForm())

    def post(self, request, pk: int):
        payment = self._payment(pk)
        form = ReverseForm(request.POST)
        if form.is_valid():
            try:
                payment_reverse(
                    payment_id=payment.pk, reason=form.cleaned_data["reason"], actor=self.actor()
                )
            except PaymentError as refusal:
                form.add_error(None, refusal.message)
            else:
                messages.success(request, f"Reversed payment {payment.number}.")
                return redirect("backoffice:account", pk=payment.account_id)
        return self.render(self.template, payment=payment, form=form)

    @staticmethod
    def _payment(pk: int):
        payment = payment_with_allocations(pk)
        if payment is None:
            raise Http404(f"No payment {pk}")
        return payment
