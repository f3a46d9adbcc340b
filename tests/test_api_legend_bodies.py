"""Legend's payment and write-down answers, built as plain dicts (payments/legend/bodies.py), are
byte for byte what their serializers (the schema's description of them) render."""

import datetime
import uuid
from decimal import Decimal

import pytest

from billing_site.api.renderers import ExactNumberJSONRenderer
from billing_site.money import ZERO
from payments.legend.bodies import processed_body
from payments.legend.serializers import (
    BillingPaymentsResponseSerializer,
    BillingWriteDownsResponseSerializer,
)
from payments.lines import LineOutcome, LineRefusal

NOW = datetime.datetime(2026, 12, 6, 13, 5, 7, 123456, tzinfo=datetime.UTC)
PAID_ON = datetime.datetime(
    2026, 11, 2, 19, 38, 19, 788753, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
)
OUTCOMES = [
    LineOutcome(7, balance=Decimal("8.00"), applied=Decimal("2.00"), processed_at=NOW),
    LineOutcome(
        8, balance=Decimal("0.00"), applied=Decimal("12345678901234567.89"), processed_at=NOW
    ),
    LineOutcome(
        9, balance=None, refusal=LineRefusal.NOT_FOUND, message="Billing item 9 was not found."
    ),
    LineOutcome(
        10, balance=Decimal("5.00"), refusal=LineRefusal.ALREADY_SETTLED, message="Déjà réglé"
    ),
]


def serialized(serializer_class, contact_id, all_applied, lines, lines_key, date_key, date):
    """What the views answered before: the serializer over the service's result."""
    data = {
        "ContactId": contact_id,
        "Success": all_applied,
        "ErrorMessage": None if all_applied else "Some lines were not applied.",
        lines_key: [
            {
                "BillingId": outcome.billing_id,
                "Balance": ZERO if outcome.balance is None else outcome.balance,
                "ProcessDate": outcome.processed_at,
                "ErrorMessage": outcome.message,
                date_key: date,
            }
            for outcome in lines
        ],
    }
    return serializer_class(data).data


def rendered(data) -> bytes:
    return ExactNumberJSONRenderer().render(data)


@pytest.mark.parametrize(
    ("serializer_class", "lines_key", "date_key"),
    [
        (BillingPaymentsResponseSerializer, "BillingPayments", "PaymentDate"),
        (BillingWriteDownsResponseSerializer, "BillingWriteDowns", "WriteDownDate"),
    ],
)
@pytest.mark.parametrize("lines", [OUTCOMES[:2], OUTCOMES, OUTCOMES[2:3], []])
def test_the_body_is_what_the_serializer_renders(serializer_class, lines_key, date_key, lines):
    contact_id = uuid.UUID("d533730b-3add-4da9-8385-cf1404196a2f")
    all_applied = all(line.is_applied for line in lines)
    body = processed_body(contact_id, all_applied, lines, lines_key, date_key, PAID_ON)
    expected = serialized(
        serializer_class, contact_id, all_applied, lines, lines_key, date_key, PAID_ON
    )
    assert rendered(body) == rendered(expected)
    assert list(body) == ["ContactId", "Success", "ErrorMessage", lines_key]
    if lines:
        assert body[lines_key][0][date_key] == "2026-11-02T17:38:19.788753+00:00"
