"""The accounts list and the search page: parse the query, call backoffice.search, render.

Both read the primary, like the account and contact pages they link to.
"""

from django import forms
from django.core.paginator import Paginator
from django.core.validators import RegexValidator
from django.shortcuts import redirect
from django.views import View

from .access import StaffPageMixin
from .search import ACCOUNT_SORTS, DEFAULT_ACCOUNT_SORT, accounts_with_balances, search

PAGE_SIZE = 50


class FlagInput(forms.CheckboxInput):
    """A checkbox that sends "1", as the dashboard's link does; "0" or nothing is unchecked."""

    def __init__(self):
        super().__init__(attrs={"value": "1"})

    def value_from_datadict(self, data, files, name) -> bool:
        return data.get(name, "") not in ("", "0", "false", "False")


class AccountFilterForm(forms.Form):
    """The accounts list's filters (the dashboard's "accounts with past-due balances" link sets
    both, backoffice.links): `currency=EUR` and `past_due=1`."""

    currency = forms.CharField(
        required=False,
        max_length=3,
        validators=[RegexValidator(r"^[A-Za-z]{3}$", "Enter a currency code: three letters.")],
        widget=forms.TextInput(attrs={"size": 4, "placeholder": "Any"}),
    )
    past_due = forms.BooleanField(required=False, label="Past due only", widget=FlagInput)

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].upper()

    def filter(self, accounts):
        """`accounts` filtered; none while a filter is invalid (its error shows beside it)."""
        if not self.is_valid():
            return accounts.none()
        if currency := self.cleaned_data["currency"]:
            accounts = accounts.filter(currency=currency)
        if self.cleaned_data["past_due"]:  # what the dashboard counts (invoices.balances)
            accounts = accounts.filter(past_due__gt=0)
        return accounts

    @property
    def filtering(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())


ACCOUNT_FIRST_SORTS = {"number": "number", "name": "name", "balance": "-balance"}


def next_sorts(sort: str, firsts: dict[str, str]) -> dict[str, str]:
    """Each column's link: the other direction if it is the sorted one, else its first sort
    (`firsts`: column -> sort, e.g. balance largest first)."""
    return {
        column: (sort[1:] if sort.startswith("-") else f"-{sort}")
        if sort.lstrip("-") == column
        else first
        for column, first in firsts.items()
    }


class AccountListView(StaffPageMixin, View):
    def get(self, request):
        sort = request.GET.get("sort", DEFAULT_ACCOUNT_SORT)
        sort = sort if sort in ACCOUNT_SORTS else DEFAULT_ACCOUNT_SORT
        filters = AccountFilterForm(request.GET)
        accounts = filters.filter(accounts_with_balances(sort))
        page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
        return self.render(
            "backoffice/accounts.html",
            filters=filters,
            sort=sort,
            next_sorts=next_sorts(sort, ACCOUNT_FIRST_SORTS),
            page=page,
            page_range=page.paginator.get_elided_page_range(page.number),
        )


class SearchView(StaffPageMixin, View):
    def get(self, request):
        query = request.GET.get("q", "").strip()
        if not query:
            return redirect("backoffice:accounts")
        return self.render("backoffice/search.html", results=search(query))
