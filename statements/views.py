"""The statement pages of the back office, and their PDF and CSV: an account's (its invoices less
its credit) and a contact's (its billing items), for `?from=YYYY-MM-DD&to=YYYY-MM-DD`.

The period defaults to the first day of the previous month to today. Like the account and contact
pages they come from, they read the primary; a statement costs a fixed number of queries
(statements/selectors.py).
"""

import datetime
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.views import View

from backoffice.access import StaffPageMixin
from backoffice.charts import BUCKET_LABELS
from backoffice.errors import get_or_404
from backoffice.forms import DATE_RANGE, date_input
from contacts.models import Account, Contact
from invoices.due import today
from payments.receivables import AGEING_BUCKETS

from .pdf import statement_pdf
from .render import statement_csv
from .selectors import Statement, account_statement, contact_statement


def default_period() -> tuple[datetime.date, datetime.date]:
    """The first day of the previous month to today: last month's statement and this month's
    movements so far."""
    end = today()
    start = (end.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    return start, end


class PeriodForm(forms.Form):
    """`from` and `to` (a Python keyword, hence the fields added in __init__); blank: the
    default period's end."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        start, end = default_period()
        self.fields["from"] = forms.DateField(
            label="From", required=False, validators=DATE_RANGE, widget=date_input(id="from")
        )
        self.fields["to"] = forms.DateField(
            label="To", required=False, validators=DATE_RANGE, widget=date_input(id="to")
        )
        self.defaults = {"from": start, "to": end}

    def clean(self):
        data = super().clean()
        start = data.get("from") or self.defaults["from"]
        end = data.get("to") or self.defaults["to"]
        if "from" in data and "to" in data and start > end:
            raise ValidationError("The period cannot start after it ends.", code="period")
        data["from"], data["to"] = start, end
        return data

    def period(self) -> tuple[datetime.date, datetime.date] | None:
        """The period asked for; None when the input is invalid."""
        if not self.is_valid():
            return None
        return self.cleaned_data["from"], self.cleaned_data["to"]


class StatementMixin(StaffPageMixin):
    """A statement of the account or contact `pk`; `kind` is "account" or "contact"."""

    kind = "account"

    def subject(self, pk: int):
        if self.kind == "account":
            return get_or_404(Account.objects, pk, "account")
        return get_or_404(Contact.objects.select_related("account"), pk, "contact")

    def statement(self, subject, period) -> Statement:
        if self.kind == "account":
            return account_statement(subject, *period)
        return contact_statement(subject, *period)

    def form_and_period(self):
        form = PeriodForm(
            {"from": self.request.GET.get("from", ""), "to": self.request.GET.get("to", "")}
        )
        return form, form.period()

    def file_name(self, statement: Statement, extension: str) -> str:
        who = statement.account.number
        if statement.contact is not None:
            who = f"{who}-contact-{statement.contact.pk}"
        return f"statement-{who}-{statement.start}-{statement.end}.{extension}"


class StatementPageView(StatementMixin, View):
    def get(self, request, pk: int):
        subject = self.subject(pk)
        form, period = self.form_and_period()
        statement = self.statement(subject, period) if period else None
        query = urlencode({"from": period[0], "to": period[1]}) if period else ""
        prefix = f"backoffice:{self.kind}-statement"
        return self.render(
            "backoffice/statement.html",
            form=form,
            subject=subject,
            kind=self.kind,
            statement=statement,
            ageing=[(BUCKET_LABELS[b], statement.ageing[b]) for b in AGEING_BUCKETS]
            if statement
            else [],
            pdf_url=f"{reverse(prefix + '-pdf', args=[pk])}?{query}",
            csv_url=f"{reverse(prefix + '-csv', args=[pk])}?{query}",
        )


class StatementFileView(StatementMixin, View):
    extension = "pdf"

    def get(self, request, pk: int):
        subject = self.subject(pk)
        form, period = self.form_and_period()
        if period is None:
            errors = "; ".join(e for errors in form.errors.values() for e in errors)
            return HttpResponseBadRequest(f"{errors}\n", content_type="text/plain; charset=utf-8")
        statement = self.statement(subject, period)
        if self.extension == "pdf":
            body, content_type, disposition = statement_pdf(statement), "application/pdf", "inline"
        else:
            body, content_type, disposition = (
                statement_csv(statement),
                "text/csv; charset=utf-8",
                "attachment",
            )
        return HttpResponse(
            body,
            content_type=content_type,
            headers={
                "Content-Disposition": (
                    f'{disposition}; filename="{self.file_name(statement, self.extension)}"'
                )
            },
        )
