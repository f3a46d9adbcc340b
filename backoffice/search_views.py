"""The accounts list and the search page: parse the query, call backoffice.search, render.

Both read the primary, like the account and contact pages they link to.
"""

from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.views import View

from .access import StaffPageMixin
from .search import ACCOUNT_SORTS, DEFAULT_ACCOUNT_SORT, accounts_with_balances, search

PAGE_SIZE = 50


def _next_sorts(sort: str) -> dict[str, str]:
    """Each column's link: the other direction if it is the sorted one; balance largest first."""
    firsts = {"number": "number", "name": "name", "balance": "-balance"}
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
        page = Paginator(accounts_with_balances(sort), PAGE_SIZE).get_page(request.GET.get("page"))
        return self.render(
            "backoffice/accounts.html",
            sort=sort,
            next_sorts=_next_sorts(sort),
            page=page,
            page_range=page.paginator.get_elided_page_range(page.number),
        )


class SearchView(StaffPageMixin, View):
    def get(self, request):
        query = request.GET.get("q", "").strip()
        if not query:
            return redirect("backoffice:accounts")
        return self.render("backoffice/search.html", results=search(query))
