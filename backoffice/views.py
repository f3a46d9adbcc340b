"""The read-only pages: dashboard, past-due list, account and contact pages.

Each parses its input, calls one selector and renders; exports.py serves the past-due list as
files and payment_views.py the pages that move money. The dashboard and the past-due list read
the replica (`replica_reads()`, after the permission check, which reads the primary) and say how
fresh their figures are; the account and contact pages, from which money is moved, read the
primary.
"""

from contextlib import nullcontext

from django.views import View

from billing_site.db_router import pinned, replica_reads
from billing_site.replica import figures_freshness
from contacts.models import Account, Contact
from invoices.due import today
from payments.owed_then import without_parallel_workers
from payments.receivables import receivables_on

from .access import StaffPageMixin
from .charts import BUCKET_LABELS, ageing_chart
from .credit_selectors import contact_credit_applications, credit_movements, credit_per_currency
from .errors import get_or_404
from .filters import past_due_listing
from .forms import AsOfForm
from .past_due_page import page_with_totals
from .selectors import account_overview, combined_totals, contact_overview, per_currency

PAGE_SIZE = 50


class DashboardView(StaffPageMixin, View):
    @replica_reads()
    def get(self, request):
        form = AsOfForm(request.GET or None)
        as_of = form.as_of_date()
        receivables = receivables_on(as_of) if as_of else []
        credit = credit_per_currency()  # read before the freshness, which is said of them all
        return self.render(
            "backoffice/dashboard.html",
            form=form,
            as_of=as_of,
            freshness=figures_freshness() if as_of else None,
            receivables=receivables,
            showing_today=as_of == today(),  # the accounts list's balances are today's
            bucket_labels=BUCKET_LABELS,
            chart=ageing_chart(receivables),
            credit=credit,
        )


class PastDueView(StaffPageMixin, View):
    @replica_reads()
    def get(self, request):
        listing = past_due_listing(request.GET)
        rows = pinned(listing.rows)
        # As of an earlier day the page's statement also counts its kind's totals (one join of
        # the corrections since the day, past_due_page.py); the pager's count is theirs.
        serially = nullcontext() if listing.is_today else without_parallel_workers(rows.db)
        with serially:
            page, shown = page_with_totals(
                rows,
                listing.currencies,
                request.GET.get("page"),
                PAGE_SIZE,
                in_one_statement=not listing.is_today,
            )
            other = per_currency(listing.other_rows, listing.currencies)
        by_kind = (shown, other) if listing.kind.key == "invoices" else (other, shown)
        return self.render(
            "backoffice/past_due.html",
            freshness=figures_freshness(),
            listing=listing,
            page=page,
            totals=combined_totals(*by_kind),
            page_range=page.paginator.get_elided_page_range(page.number),
        )


class AccountView(StaffPageMixin, View):
    def get(self, request, pk: int):
        account = get_or_404(Account.objects, pk, "account")
        overview = account_overview(account)
        return self.render(
            "backoffice/account.html",
            overview=overview,
            credit_movements=credit_movements(account, overview.payments),
        )


class ContactView(StaffPageMixin, View):
    def get(self, request, pk: int):
        contact = get_or_404(Contact.objects.select_related("account"), pk, "contact")
        return self.render(
            "backoffice/contact.html",
            overview=contact_overview(contact),
            credit_applications=contact_credit_applications(contact),
        )
