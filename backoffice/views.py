"""The read-only pages: dashboard, past-due list, account and contact pages.

Each parses its input, calls one selector and renders; exports.py serves the past-due list as
files and payment_views.py the pages that move money. The dashboard and the past-due list read
the replica (`replica_reads()`, after the permission check, which reads the primary) and say how
fresh their figures are; the account and contact pages, from which money is moved, read the
primary.
"""

from django.core.paginator import Paginator
from django.views import View

from billing_site.db_router import pinned, replica_reads
from billing_site.replica import figures_freshness
from contacts.models import Account, Contact
from invoices.due import today
from payments.receivables import receivables_on

from .access import StaffPageMixin
from .charts import BUCKET_LABELS, ageing_chart
from .errors import get_or_404
from .filters import past_due_listing
from .forms import AsOfForm
from .selectors import account_overview, contact_overview, past_due_totals

PAGE_SIZE = 50


class DashboardView(StaffPageMixin, View):
    @replica_reads()
    def get(self, request):
        form = AsOfForm(request.GET or None)
        as_of = form.as_of_date()
        receivables = receivables_on(as_of) if as_of else []
        return self.render(
            "backoffice/dashboard.html",
            form=form,
            as_of=as_of,
            freshness=figures_freshness() if as_of else None,
            receivables=receivables,
            showing_today=as_of == today(),  # the accounts list's balances are today's
            bucket_labels=BUCKET_LABELS,
            chart=ageing_chart(receivables),
        )


class CountedPaginator(Paginator):
    """A paginator told how many rows it pages, where `Paginator` would count them itself."""

    def __init__(self, object_list, per_page: int, count: int):
        super().__init__(object_list, per_page)
        self.count = count  # over the cached property


class PastDueView(StaffPageMixin, View):
    @replica_reads()
    def get(self, request):
        listing = past_due_listing(request.GET)
        rows = pinned(listing.rows)
        totals = past_due_totals(*listing.by_kind(), listing.currencies)
        # The totals count the rows of every currency: no COUNT statement of the list's own,
        # which as of an earlier day costs as much as the totals (docs/receivables.md).
        count = sum(total.count(listing.kind.key) for total in totals)
        page = CountedPaginator(rows, PAGE_SIZE, count).get_page(request.GET.get("page"))
        return self.render(
            "backoffice/past_due.html",
            freshness=figures_freshness(),
            listing=listing,
            page=page,
            totals=totals,
            page_range=page.paginator.get_elided_page_range(page.number),
        )


class AccountView(StaffPageMixin, View):
    def get(self, request, pk: int):
        account = get_or_404(Account.objects, pk, "account")
        return self.render("backoffice/account.html", overview=account_overview(account))


class ContactView(StaffPageMixin, View):
    def get(self, request, pk: int):
        contact = get_or_404(Contact.objects.select_related("account"), pk, "contact")
        return self.render("backoffice/contact.html", overview=contact_overview(contact))
