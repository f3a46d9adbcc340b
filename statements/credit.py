"""An account's credit at the end of a past day, from the credit rows dated up to it.

The same movements as payments.ledger's recomputation of `Account.credit_balance`, each counted
from its own date (the UTC day of a datetime):

    credit then = the credit part of the payments dated up to the day and not reversed by its end
                + what was released of allocations into credit up to the day
                + the credit part of the credit notes dated up to the day
                - credit applied up to the day
                - refunds dated up to the day

For today (and later) it is the stored `credit_balance` (tests/test_statements_credit.py).
"""

import datetime
from decimal import Decimal

from django.db.models import Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing_site.money import CENT, ZERO, MoneyField
from contacts.models import Account
from payments.models import AllocationRelease, CreditApplication, CreditNote, Payment, Refund
from payments.receivables import _end_of


def total_of(rows, field: str = "amount") -> Coalesce:
    """The sum of `field` over `rows` (all of one account), or 0: a scalar subquery."""
    summed = rows.order_by().values("account_id").annotate(total=Sum(field)).values("total")
    return Coalesce(
        Subquery(summed, output_field=MoneyField()), Value(ZERO), output_field=MoneyField()
    )


def credit_on(account: Account, day: datetime.date) -> Decimal:
    """The account's credit at the end of `day`, in one statement."""
    end = _end_of(day)
    mine = Q(account_id=account.pk)
    standing = (
        mine
        & Q(payment_date__lt=end)
        & (Q(reversal__isnull=True) | Q(reversal__reversed_at__gte=end))
    )
    row = (
        Account.objects.filter(pk=account.pk)
        .values(
            credit_payments=total_of(Payment.objects.filter(standing), "credit_amount"),
            credit_released=total_of(AllocationRelease.objects.filter(mine, released_at__lt=end)),
            credit_noted=total_of(
                CreditNote.objects.filter(mine, issue_date__lte=day), "credit_amount"
            ),
            credit_applied=total_of(CreditApplication.objects.filter(mine, applied_at__lt=end)),
            credit_refunded=total_of(Refund.objects.filter(mine, refund_date__lt=end)),
        )
        .get()
    )
    credit = (
        row["credit_payments"]
        + row["credit_released"]
        + row["credit_noted"]
        - row["credit_applied"]
        - row["credit_refunded"]
    )
    return credit.quantize(CENT)
