"""Legend's answers as plain dicts: `GET /POS/Billings`' lines from `values_list()` rows of
`BILLING_FIELDS`, and the payment and write-down answers from the service's line outcomes.

The same keys, order and values as the serializers in .serializers (which stay the schema's
description of them, and which tests/test_api_legend_bodies.py compares these with): running them
was a third of Billings' CPU and a tenth of a payment's. Each value is what its serializer field
gives (IntegerField, CharField, UUIDField, DRF's DateField, OffsetDateTimeField, the amount's
`Decimal` as is).
"""

import datetime

from rest_framework import serializers

from billing_site.money import ZERO

from ..lines import LineOutcome

BILLING_FIELDS = ("pk", "description", "due_date", "total_amount", "balance")

_date = serializers.DateField().to_representation


def billing_body(row: tuple) -> dict:
    pk, description, due_date, total_amount, balance = row
    return {
        "BillingId": int(pk),
        "Description": str(description),
        "DueDate": _date(due_date),
        "TotalAmount": total_amount,
        "Balance": balance,
    }


def _offset(moment: datetime.datetime | None) -> str | None:
    """OffsetDateTimeField."""
    return None if moment is None else moment.astimezone(datetime.UTC).isoformat()


def processed_body(
    contact_id, all_applied: bool, lines: list[LineOutcome], lines_key: str, date_key: str, date
) -> dict:
    """BillingPaymentsResponseSerializer (`lines_key` "BillingPayments", `date_key` "PaymentDate")
    or BillingWriteDownsResponseSerializer ("BillingWriteDowns", "WriteDownDate") of a service's
    result: `date` is the request's payment or write-down date, on every line."""
    date_text = _offset(date)
    return {
        "ContactId": None if contact_id is None else str(contact_id),
        "Success": bool(all_applied),
        "ErrorMessage": None if all_applied else "Some lines were not applied.",
        lines_key: [
            {
                "BillingId": int(outcome.billing_id),
                # An unknown (or another contact's) item has no balance to show: 0, as .NET's
                # non-nullable decimal expects, with the line's ErrorMessage saying why.
                "Balance": ZERO if outcome.balance is None else outcome.balance,
                "ProcessDate": _offset(outcome.processed_at),
                date_key: date_text,
                "ErrorMessage": None if outcome.message is None else str(outcome.message),
            }
            for outcome in lines
        ],
    }
