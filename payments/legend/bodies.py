"""`GET /POS/Billings`' lines as plain dicts, from `values_list()` rows of `BILLING_FIELDS`.

The same keys, order and values as BillingSerializer (which stays the schema's description of
them): running it over model instances was a third of the endpoint's CPU. Each value is what its
serializer field gives (IntegerField, CharField, DRF's DateField, the amount's `Decimal` as is).
"""

from rest_framework import serializers

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
