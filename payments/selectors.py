from django.db.models import QuerySet

from contacts.models import Account

from .models import Payment

# What a DocuSign `billingPaymentItem` shows; "reversal" is the reversal's id, None if none.
PAYMENT_ITEM_FIELDS = ("pk", "amount", "description", "payment_date", "reversal")


def account_payments(account: Account) -> QuerySet[Payment]:
    """The account's payments, reversed ones included (they stay on the record), with their
    reversal and tender type loaded."""
    return Payment.objects.filter(account=account).select_related("reversal", "tender_type")


def account_payment_rows(account: Account) -> QuerySet:
    """`account_payments` as `values()` rows of `PAYMENT_ITEM_FIELDS` (the reversal joined in the
    same query), for an API answer built without model instances."""
    return Payment.objects.filter(account=account).values(*PAYMENT_ITEM_FIELDS)
