"""Request serializers built once (billing_site/api/validation.py): `validated` gives exactly what
`Serializer(data=...).is_valid(raise_exception=True)` gives, validated data or error, and builds
the fields only once."""

import copy
import datetime
from decimal import Decimal

import pytest
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from billing_site.api.validation import validated
from payments.docusign.serializers import BillingPaymentRequestSerializer
from payments.legend.serializers import (
    BillingPaymentsRequestSerializer,
    BillingsQuerySerializer,
    BillingWriteDownsRequestSerializer,
)

GUID = "0059f5ff-b344-6cf2-8d7e-2efaac3c7919"
NOW = datetime.datetime.now(datetime.UTC).isoformat()
LINE = {"BillingId": 12, "Amount": Decimal("1.00"), "ThirdPartyReference": "r", "Notes": None}

CASES = [
    (
        BillingPaymentsRequestSerializer,
        {"ContactId": GUID, "PaymentDate": NOW, "TenderTypeId": 3, "BillingPayments": [LINE]},
    ),
    (
        BillingPaymentsRequestSerializer,
        {
            "ContactId": GUID.upper(),
            "PaymentDate": NOW,
            "TenderTypeId": 0,
            "BillingPayments": [{"BillingId": n, "Amount": "2.5"} for n in range(1, 11)],
        },
    ),
    (
        BillingPaymentsRequestSerializer,
        {
            "ContactId": GUID,
            "PaymentDate": "2025-11-02T17:38:19.8043650+02:00",
            "TenderTypeId": 3,
            "BillingPayments": [],
            "Extra": 1,
        },
    ),
    (
        BillingPaymentsRequestSerializer,
        {"ContactId": 42, "PaymentDate": NOW, "TenderTypeId": 3, "BillingPayments": [LINE]},
    ),
    (
        BillingPaymentsRequestSerializer,
        {
            "ContactId": GUID,
            "PaymentDate": "2025-11-02T17:38:19",
            "TenderTypeId": 3,
            "BillingPayments": [LINE],
        },
    ),
    (
        BillingPaymentsRequestSerializer,
        {
            "ContactId": GUID,
            "PaymentDate": "2999-01-01T00:00:00Z",
            "TenderTypeId": 3,
            "BillingPayments": [LINE],
        },
    ),
    (
        BillingPaymentsRequestSerializer,
        {
            "ContactId": GUID,
            "PaymentDate": NOW,
            "TenderTypeId": -1,
            "BillingPayments": [{"BillingId": 0, "Amount": "x"}, 7],
        },
    ),
    (
        BillingPaymentsRequestSerializer,
        {
            "ContactId": GUID,
            "PaymentDate": NOW,
            "TenderTypeId": 3,
            "BillingPayments": {"BillingId": 1},
        },
    ),
    (BillingPaymentsRequestSerializer, {}),
    (BillingPaymentsRequestSerializer, [LINE]),
    (BillingPaymentsRequestSerializer, None),
    (
        BillingWriteDownsRequestSerializer,
        {
            "ContactId": GUID,
            "WriteDownDate": NOW,
            "Notes": "Why",
            "BillingWriteDowns": [{"BillingId": 3, "Amount": 1}],
        },
    ),
    (
        BillingWriteDownsRequestSerializer,
        {
            "ContactId": GUID,
            "WriteDownDate": NOW,
            "Notes": "",
            "BillingWriteDowns": [{"BillingId": 3, "GLAccountId": -4}],
        },
    ),
    (BillingsQuerySerializer, QueryDict(f"ContactId={GUID}&OutstandingOnly=true")),
    (BillingsQuerySerializer, QueryDict(f"ContactId={GUID}")),
    (BillingsQuerySerializer, QueryDict("ContactId=nope&OutstandingOnly=maybe")),
    (BillingPaymentRequestSerializer, {"paymentAmount": "125.00", "invoiceId": "17"}),
    (BillingPaymentRequestSerializer, {"paymentAmount": Decimal("125"), "invoiceId": 17}),
    (BillingPaymentRequestSerializer, {"paymentAmount": "12.5.0", "invoiceId": "0"}),
    (BillingPaymentRequestSerializer, {"invoiceId": True}),
]


def the_usual_way(serializer_class, data):
    serializer = serializer_class(data=data)
    try:
        serializer.is_valid(raise_exception=True)
    except ValidationError as error:
        return "refused", error.detail
    return "valid", serializer.validated_data


def built_once(serializer_class, data):
    try:
        return "valid", validated(serializer_class, data)
    except ValidationError as error:
        return "refused", error.detail


@pytest.mark.parametrize(("serializer_class", "data"), CASES)
def test_validated_is_what_is_valid_gives(serializer_class, data):
    expected = the_usual_way(serializer_class, copy.deepcopy(data))
    assert built_once(serializer_class, copy.deepcopy(data)) == expected
    assert built_once(serializer_class, copy.deepcopy(data)) == expected  # and again


def test_the_fields_are_built_once(monkeypatch):
    serializer_class, data = CASES[0]
    validated(serializer_class, data)
    copies = []
    deepcopy = copy.deepcopy
    monkeypatch.setattr(copy, "deepcopy", lambda *a, **k: copies.append(1) or deepcopy(*a, **k))

    assert validated(serializer_class, data)["BillingPayments"][0]["Amount"] == Decimal("1.00")
    assert copies == []
