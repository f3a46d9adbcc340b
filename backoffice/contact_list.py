"""The contacts list: every contact with what its billing items owe today, of which past due.

One query for the page and one for the count, whatever the number of rows: the figures are
correlated subqueries (invoices.balances.with_item_balances), as on the accounts list.
"""

from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Concat, Lower
from django.views import View

from contacts.models import Contact
from invoices.balances import with_item_balances

from .access import StaffPageMixin
from .search_views import next_sorts

PAGE_SIZE = 50

# ?sort= -> ORDER BY. Names ignore letter case; balances are compared within a currency only.
CONTACT_SORTS = {
    "name": (Lower("last_name"), Lower("first_name"), "pk"),
    "-name": (Lower("last_name").desc(), Lower("first_name").desc(), "-pk"),
    "account": ("account__number", Lower("last_name"), "pk"),
    "-account": ("-account__number", Lower("last_name").desc(), "-pk"),
    "balance": ("account__currency", "owed", "pk"),
    "-balance": ("account__currency", "-owed", "pk"),
}
DEFAULT_SORT = "name"
FIRST_DIRECTION = {"name": "name", "account": "account", "balance": "-balance"}


def contacts_with_balances(sort: str = DEFAULT_SORT, query: str = "") -> QuerySet[Contact]:
    """Contacts whose name or email contains `query` (all if blank), with `owed` (what their
    billing items owe), `past_due` (of which due before today) and `outstanding` (how many items
    owe anything), sorted by `CONTACT_SORTS[sort]` (the default if unknown)."""
    contacts = with_item_balances(Contact.objects.select_related("account"))
    query = query.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    if query:
        full_name = Concat(F("first_name"), Value(" "), F("last_name"))
        contacts = contacts.annotate(full_name=full_name).filter(
            Q(full_name__icontains=query) | Q(email__icontains=query)
        )
    return contacts.order_by(*CONTACT_SORTS.get(sort, CONTACT_SORTS[DEFAULT_SORT]))


class ContactListView(StaffPageMixin, View):
    def get(self, request):
        sort = request.GET.get("sort", DEFAULT_SORT)
        sort = sort if sort in CONTACT_SORTS else DEFAULT_SORT
        query = request.GET.get("q", "")
        contacts = contacts_with_balances(sort, query)
        page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
        return self.render(
            "backoffice/contacts.html",
            sort=sort,
            query=query.strip(),
            next_sorts=next_sorts(sort, FIRST_DIRECTION),
            page=page,
            page_range=page.paginator.get_elided_page_range(page.number),
        )
