"""`Idempotency-Key` on `POST billing_payments` (contract section 3), on both DocuSign mounts.

"The first response for a key (per API credential) is stored and replayed for any retry with the
same body; the same key with a different body is refused." A refusal is a response too: it is
stored and replayed like a success, even once the same request would now be accepted.
"""

import json
from decimal import Decimal

import pytest

from invoices.models import Invoice, InvoiceStatus
from payments.docusign import views
from payments.models import IdempotencyRecord, Payment, PaymentAllocation
from tests.factories import AccountRoleFactory, InvoiceFactory, InvoiceItemFactory, days_ago

pytestmark = pytest.mark.django_db

MOUNTS = {"restapi": "/restapi/v2.1", "seed": "/v2.1"}
KEY_MESSAGE = "The Idempotency-Key header must be 1 to 255 printable ASCII characters."


@pytest.fixture(params=sorted(MOUNTS))
def mount(request):
    return request.param


@pytest.fixture
def role():
    """An account administrator's credential, and an account owing 30.00 + 70.00 past due and
    40.00 not yet due."""
    role = AccountRoleFactory()
    for days, amount in ((20, "30.00"), (10, "70.00"), (-5, "40.00")):
        invoice = InvoiceFactory(
            account=role.account, due_date=days_ago(days), amount=Decimal(amount)
        )
        InvoiceItemFactory(invoice=invoice, unit_price=Decimal(amount))
    return role


def payments_url(mount, account):
    return f"{MOUNTS[mount]}/accounts/{account.number}/billing_payments"


def post(client, mount, role, body, key=None, account=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {role.credential.secret}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(
        payments_url(mount, account or role.account),
        body,
        content_type="application/json",
        **headers,
    )


def payload(mount, response):
    """The model in a 2xx body, without the seed's envelope."""
    body = response.json()
    if mount == "seed":
        assert body["success"] is True
        return body["data"]
    return body


def error_body(mount, code, message, status_code=400, **details):
    """The exact error body of each mount (contract 1.8)."""
    if mount == "restapi":
        return {"errorCode": code, "message": message}
    seed_code = {400: "VALIDATION_ERROR", 409: "CONFLICT", 500: "INTERNAL_ERROR"}[status_code]
    return {
        "success": False,
        "error": {"code": seed_code, "message": message, "details": {"errorCode": code, **details}},
    }


def balances(account):
    return list(
        Invoice.objects.filter(account=account)
        .order_by("due_date")
        .values_list("balance", "status")
    )


UNPAID = [
    (Decimal("30.00"), InvoiceStatus.OPEN),
    (Decimal("70.00"), InvoiceStatus.OPEN),
    (Decimal("40.00"), InvoiceStatus.OPEN),
]
SETTLED = [
    (Decimal("0.00"), InvoiceStatus.PAID),
    (Decimal("0.00"), InvoiceStatus.PAID),
    (Decimal("40.00"), InvoiceStatus.OPEN),
]


def records():
    return list(
        IdempotencyRecord.objects.order_by("pk").values_list(
            "key", "credential_id", "user_id", "status_code"
        )
    )


def test_a_retry_with_the_same_key_replays_the_payment(client, mount, role):
    first = post(client, mount, role, {"paymentAmount": "100.00"}, key="k1")

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    payment = Payment.objects.get()
    oldest, newer = Invoice.objects.filter(account=role.account).order_by("due_date")[:2]
    expected = {
        "billingPayments": [
            {"amount": "30.00", "invoiceId": str(oldest.pk), "paymentId": str(payment.pk)},
            {"amount": "70.00", "invoiceId": str(newer.pk), "paymentId": str(payment.pk)},
        ]
    }
    if mount == "seed":
        created_at = payment.processed_at.isoformat().replace("+00:00", "Z")
        expected = {"id": str(payment.pk), "created_at": created_at, **expected}
    assert payload(mount, first) == expected

    retry = post(client, mount, role, {"paymentAmount": "100.00"}, key="k1")

    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert list(Payment.objects.values_list("pk", "amount")) == [(payment.pk, Decimal("100.00"))]
    assert PaymentAllocation.objects.count() == 2
    assert balances(role.account) == SETTLED
    assert records() == [("k1", role.credential.pk, None, 201)]
    assert json.loads(IdempotencyRecord.objects.get().response_body) == expected


def test_a_retry_sending_the_amount_as_a_number_is_another_request(client, mount, role):
    """The body is compared as parsed: "100.00" and 100.00 are different requests."""
    post(client, mount, role, {"paymentAmount": "100.00"}, key="k1")

    retry = post(client, mount, role, {"paymentAmount": 100.00}, key="k1")

    assert retry.status_code == 409
    assert retry.json() == error_body(
        mount,
        "IDEMPOTENCY_KEY_REUSED",
        "The Idempotency-Key 'k1' was already used for a different request.",
        status_code=409,
    )
    assert Payment.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(client, mount, role):
    first = post(client, mount, role, {"paymentAmount": "100.00"}, key="k1")
    assert first.status_code == 201
    oldest = Invoice.objects.filter(account=role.account).order_by("due_date").first()

    reused = post(client, mount, role, {"paymentAmount": "30.00", "invoiceId": oldest.pk}, key="k1")

    assert reused.status_code == 409
    assert "Idempotent-Replayed" not in reused.headers
    assert reused.json() == error_body(
        mount,
        "IDEMPOTENCY_KEY_REUSED",
        "The Idempotency-Key 'k1' was already used for a different request.",
        status_code=409,
    )
    assert Payment.objects.count() == 1
    assert balances(role.account) == SETTLED
    assert records() == [("k1", role.credential.pk, None, 201)]


def test_a_reused_key_is_refused_even_when_its_new_body_could_pay(client, mount, role):
    refused = post(client, mount, role, {"paymentAmount": "1.00"}, key="k1")
    assert refused.status_code == 400

    reused = post(client, mount, role, {"paymentAmount": "100.00"}, key="k1")

    assert reused.status_code == 409
    assert reused.json() == error_body(
        mount,
        "IDEMPOTENCY_KEY_REUSED",
        "The Idempotency-Key 'k1' was already used for a different request.",
        status_code=409,
    )
    assert not Payment.objects.exists()
    assert balances(role.account) == UNPAID
    assert records() == [("k1", role.credential.pk, None, 400)]


def test_a_key_is_bound_to_the_mount_it_was_first_used_on(client, role):
    """Another path is another request, even with the same body (as Stripe does)."""
    assert post(client, "restapi", role, {"paymentAmount": "100.00"}, key="k1").status_code == 201

    other_mount = post(client, "seed", role, {"paymentAmount": "100.00"}, key="k1")

    assert other_mount.status_code == 409
    assert other_mount.json()["error"]["details"] == {"errorCode": "IDEMPOTENCY_KEY_REUSED"}
    assert Payment.objects.count() == 1


def test_a_refused_request_is_stored_and_replayed_even_once_it_could_pay(client, mount, role):
    """The contract stores "the first response for a key", a refusal included: a retry gets the
    same 400 although the account now owes exactly that amount. A fresh key pays."""
    first = post(client, mount, role, {"paymentAmount": "150.00"}, key="k2")

    message = "The amount 150.00 does not match the balance due 100.00."
    expected = error_body(
        mount, "INVALID_PAYMENT_AMOUNT", message, reason="AMOUNT_MISMATCH", pastDueBalance="100.00"
    )
    assert first.status_code == 400
    assert first.json() == expected
    assert "Idempotent-Replayed" not in first.headers
    # Another 50.00 falls past due: 150.00 is now exactly the past-due balance.
    InvoiceFactory(account=role.account, due_date=days_ago(5), amount=Decimal("50.00"))

    retry = post(client, mount, role, {"paymentAmount": "150.00"}, key="k2")

    assert retry.status_code == 400
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.content == first.content  # byte for byte: key order and types kept
    assert retry.json() == expected
    assert not Payment.objects.exists()
    assert records() == [("k2", role.credential.pk, None, 400)]

    fresh = post(client, mount, role, {"paymentAmount": "150.00"}, key="k3")

    assert fresh.status_code == 201
    assert [item["amount"] for item in payload(mount, fresh)["billingPayments"]] == [
        "30.00",
        "70.00",
        "50.00",
    ]
    assert list(Payment.objects.values_list("amount", flat=True)) == [Decimal("150.00")]
    assert records() == [
        ("k2", role.credential.pk, None, 400),
        ("k3", role.credential.pk, None, 201),
    ]


def test_a_malformed_body_is_stored_and_replayed_too(client, mount, role):
    first = post(client, mount, role, {"paymentAmount": "abc"}, key="k1")
    retry = post(client, mount, role, {"paymentAmount": "abc"}, key="k1")

    assert (first.status_code, retry.status_code) == (400, 400)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    code = first.json()["errorCode"] if mount == "restapi" else first.json()["error"]["code"]
    assert code == ("INVALID_REQUEST_PARAMETER" if mount == "restapi" else "VALIDATION_ERROR")
    assert records() == [("k1", role.credential.pk, None, 400)]
    assert not Payment.objects.exists()


def test_the_same_key_from_two_credentials_pays_each_account(client, mount, role):
    other = AccountRoleFactory()
    InvoiceFactory(account=other.account, due_date=days_ago(3), amount=Decimal("25.00"))

    mine = post(client, mount, role, {"paymentAmount": "100.00"}, key="shared")
    theirs = post(client, mount, other, {"paymentAmount": "25.00"}, key="shared")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in mine.headers
    assert "Idempotent-Replayed" not in theirs.headers
    assert sorted(
        Payment.objects.values_list("account_id", "amount", "recorded_by_credential_id")
    ) == sorted(
        [
            (role.account_id, Decimal("100.00"), role.credential.pk),
            (other.account_id, Decimal("25.00"), other.credential.pk),
        ]
    )
    assert balances(role.account) == SETTLED
    assert balances(other.account) == [(Decimal("0.00"), InvoiceStatus.PAID)]
    assert records() == [
        ("shared", role.credential.pk, None, 201),
        ("shared", other.credential.pk, None, 201),
    ]


def test_the_same_key_from_two_credentials_of_one_account_is_not_a_replay(client, mount, role):
    """Two partners of one account: the second one's request runs (and finds nothing due)."""
    second = AccountRoleFactory(account=role.account)

    mine = post(client, mount, role, {"paymentAmount": "100.00"}, key="shared")
    theirs = post(client, mount, second, {"paymentAmount": "100.00"}, key="shared")

    assert mine.status_code == 201
    assert theirs.status_code == 400
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json() == error_body(
        mount, "PAYMENT_NOT_ALLOWED", "There is nothing past due to pay.", reason="NOTHING_TO_PAY"
    )
    assert Payment.objects.count() == 1
    assert records() == [
        ("shared", role.credential.pk, None, 201),
        ("shared", second.credential.pk, None, 400),
    ]


@pytest.mark.parametrize("key", ["", "   ", "k" * 256, "caf\u00e9", "tab\there"])
def test_an_invalid_key_is_refused_before_anything_runs(client, mount, role, key):
    response = post(client, mount, role, {"paymentAmount": "100.00"}, key=key)

    assert response.status_code == 400
    assert response.json() == error_body(mount, "INVALID_REQUEST_PARAMETER", KEY_MESSAGE)
    assert not Payment.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    assert balances(role.account) == UNPAID


def test_a_key_of_255_characters_is_accepted(client, mount, role):
    key = "k" * 255

    first = post(client, mount, role, {"paymentAmount": "100.00"}, key=key)
    retry = post(client, mount, role, {"paymentAmount": "100.00"}, key=key)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert records() == [(key, role.credential.pk, None, 201)]


def test_without_a_key_a_retry_runs_again_and_is_refused(client, mount, role):
    """What the header is for: a blind retry without it is a second payment attempt."""
    first = post(client, mount, role, {"paymentAmount": "100.00"})
    retry = post(client, mount, role, {"paymentAmount": "100.00"})

    assert first.status_code == 201
    assert retry.status_code == 400
    assert "Idempotent-Replayed" not in retry.headers
    assert retry.json() == error_body(
        mount, "PAYMENT_NOT_ALLOWED", "There is nothing past due to pay.", reason="NOTHING_TO_PAY"
    )
    assert Payment.objects.count() == 1
    assert balances(role.account) == SETTLED
    assert not IdempotencyRecord.objects.exists()


def test_an_unauthenticated_request_with_a_key_stores_nothing(client, mount, role):
    response = client.post(
        payments_url(mount, role.account),
        {"paymentAmount": "100.00"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer not-a-key",
        HTTP_IDEMPOTENCY_KEY="k1",
    )

    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists()
    assert not Payment.objects.exists()


def test_a_staff_users_keys_are_their_own(client, mount, role, admin_user):
    """A logged-in superuser (session) owns its keys, apart from the partners' keys."""
    client.force_login(admin_user)
    url = payments_url(mount, role.account)

    first = client.post(
        url, {"paymentAmount": "100.00"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    retry = client.post(
        url, {"paymentAmount": "100.00"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    partner = post(client, mount, role, {"paymentAmount": "100.00"}, key="k1")

    assert (first.status_code, retry.status_code, partner.status_code) == (201, 201, 400)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert "Idempotent-Replayed" not in partner.headers
    assert Payment.objects.count() == 1
    assert records() == [("k1", None, admin_user.pk, 201), ("k1", role.credential.pk, None, 400)]


def test_a_key_reused_on_another_account_of_the_same_credential_is_refused(client, mount, role):
    """One partner, administrator of two accounts: a key that paid account A must not replay A's
    payment as if it were B's, nor pay B."""
    other = AccountRoleFactory(credential=role.credential)
    InvoiceFactory(account=other.account, due_date=days_ago(3), amount=Decimal("100.00"))
    assert post(client, mount, role, {"paymentAmount": "100.00"}, key="k1").status_code == 201

    response = post(
        client, mount, role, {"paymentAmount": "100.00"}, key="k1", account=other.account
    )

    assert response.status_code == 409
    assert response.json() == error_body(
        mount,
        "IDEMPOTENCY_KEY_REUSED",
        "The Idempotency-Key 'k1' was already used for a different request.",
        status_code=409,
    )
    assert list(Payment.objects.values_list("account_id", flat=True)) == [role.account_id]
    assert balances(other.account) == [(Decimal("100.00"), InvoiceStatus.OPEN)]


def test_a_server_error_is_not_stored_and_the_key_stays_free(client, mount, role, monkeypatch):
    """A 5xx is not an answer to replay: the key's record is rolled back with the request, and a
    retry with the same key runs and pays."""

    def broken(**kwargs):
        raise RuntimeError("database fell over")

    with monkeypatch.context() as patch:
        patch.setattr(views, "invoices_pay", broken)
        failed = post(client, mount, role, {"paymentAmount": "100.00"}, key="k1")

    assert failed.status_code == 500
    assert failed.json() == error_body(
        mount,
        "INTERNAL_SERVER_ERROR",
        "An internal error occurred. It has been logged.",
        status_code=500,
    )
    assert not IdempotencyRecord.objects.exists()
    assert not Payment.objects.exists()

    retry = post(client, mount, role, {"paymentAmount": "100.00"}, key="k1")

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert Payment.objects.count() == 1
    assert balances(role.account) == SETTLED
    assert records() == [("k1", role.credential.pk, None, 201)]
