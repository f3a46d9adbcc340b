"""Money received into an account's credit, by staff in the admin: the account's page gets
"Receive money into credit" (a payment that settles no invoice, all of it credit, through
payments.services.invoices_pay), for those who may record payments (`payments.add_payment`, as
the back office's "Record a payment")."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from billing_site.money import InvalidAmount, format_amount, parse_amount
from contacts.models import Account
from invoices import admin as invoices_admin

from .actors import Actor, Channel
from .errors import PaymentError
from .models import TenderType
from .services import invoices_pay

RECORD = "payments.add_payment"


class ReceiveCreditForm(forms.Form):
    amount = forms.CharField(max_length=30, help_text="Received and held as the account's credit.")
    payment_date = forms.DateField(
        initial=timezone.localdate, help_text="When the money arrived (today or earlier)."
    )
    tender_type = forms.ModelChoiceField(TenderType.objects.filter(is_active=True), required=False)
    reference = forms.CharField(max_length=200, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def clean_amount(self):
        try:
            return parse_amount(self.cleaned_data["amount"])
        except InvalidAmount as error:
            raise forms.ValidationError(error.message) from None

    def clean_payment_date(self):
        day = self.cleaned_data["payment_date"]
        if day > timezone.localdate():
            raise forms.ValidationError("The payment date cannot be after today.")
        return day


admin.site.unregister(Account)


@admin.register(Account)
class AccountAdmin(invoices_admin.AccountAdmin):
    change_form_template = "admin/payments/account/change_form.html"

    def get_urls(self):
        receive = self.admin_site.admin_view(self.receive_credit_view)
        return [
            path("<path:object_id>/receive-credit/", receive, name="contacts_account_receive"),
            *super().get_urls(),
        ]

    def receive_credit_view(self, request, object_id):
        account = get_object_or_404(Account, pk=object_id)
        if not request.user.has_perm(RECORD):
            raise PermissionDenied
        change_url = reverse("admin:contacts_account_change", args=[account.pk])
        form = ReceiveCreditForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                paid = invoices_pay(
                    account_id=account.pk,
                    amount=data["amount"],
                    actor=Actor(channel=Channel.STAFF, user=request.user),
                    invoice_ids=[],
                    excess_to_credit=True,
                    payment_date=datetime.datetime.combine(
                        data["payment_date"], datetime.time(12), datetime.UTC
                    ),
                    tender_type_id=data["tender_type"].pk if data["tender_type"] else None,
                    description="Received into credit",
                    reference=data["reference"],
                    notes=data["notes"],
                )
            except PaymentError as refusal:
                form.add_error(None, refusal.message)
            else:
                self.log_change(request, account, f"Received {paid.payment} into credit.")
                self.message_user(
                    request,
                    f"{paid.payment} of {format_amount(paid.to_credit)} {account.currency} "
                    "received into the account's credit.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Receive money into the credit of {account}",
            "opts": self.opts,
            "account": account,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/payments/account/receive_credit.html", context)
