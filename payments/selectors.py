from django.db.models import QuerySet

from contacts.models import Account

from .models import Payment


def account_payments(account: Account) -> QuerySet[Payment]:
    """The account's payments, reversed ones included (they stay on the record), with their
    reversal and tender type loaded."""
    return Payment.objects.filter(account=account).select_related("reversal", "tender_type")
