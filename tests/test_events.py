"""Events from the money service (events.models, payments/events.py): one row per money change,
written in its transaction (none when it rolls back), with the objects in the APIs' terms; and
`GET billing_events` to catch up, on both DocuSign mounts."""

from decimal import Decimal

import pytest
from django.db import ProgrammingError, connection, transaction
from django.utils import timezone

from events.models import Event
from payments.actors import SYSTEM, Actor, Channel
from payments.errors import AmountMismatch
from payments.lines import BillingLine, WriteDownLine
from payments.services import (
    CreditNoteLineInput,
    billing_items_pay,
    billing_items_write_down,
    credit_apply,
    credit_note_issue,
    invoices_pay,
    payment_reverse,
    refund_issue,
)
from tests.docusign_api import both_mounts, data, get, post, url
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    TenderTypeFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db


def events_of(account) -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in Event.objects.filter(account=account).order_by("pk")]


def head(account) -> dict:
    return {"accountId": str(account.guid), "accountNumber": str(account.number)}


@pytest.fixture
def books():
    account = AccountFactory(currency="EUR")
    older = InvoiceFactory(account=account, due_date=days_ago(20), amount=Decimal("30.00"))
    newer = InvoiceFactory(account=account, due_date=days_ago(5), amount=Decimal("50.00"))
    return account, older, newer


def test_a_payment_records_its_event_and_the_invoices_it_paid(books):
    account, older, newer = books
    paid = invoices_pay(account_id=account.pk, amount="40.00", actor=SYSTEM)
    payment = paid.payment

    assert events_of(account) == [
        (
            "payment.created",
            {
                **head(account),
                "paymentId": str(payment.pk),
                "paymentNumber": payment.number,
                "amount": "40.00",
                "currency": "EUR",
                "paymentDate": payment.payment_date.isoformat().replace("+00:00", "Z"),
                "channel": "system",
                "reference": "",
                "allocations": [
                    {"invoiceId": str(older.pk), "invoiceNumber": older.number, "amount": "30.00"},
                    {"invoiceId": str(newer.pk), "invoiceNumber": newer.number, "amount": "10.00"},
                ],
                "toCredit": "0.00",
            },
        ),
        (
            "invoice.paid",
            {
                **head(account),
                "invoiceId": str(older.pk),
                "invoiceNumber": older.number,
                "amount": "30.00",
            },
        ),
    ]


def test_a_refused_or_rolled_back_money_call_leaves_no_event(books):
    account, *_ = books
    with pytest.raises(AmountMismatch):
        invoices_pay(account_id=account.pk, amount="1.00", actor=SYSTEM, settle_in_full=True)
    with transaction.atomic():
        invoices_pay(account_id=account.pk, amount="80.00", actor=SYSTEM)
        assert Event.objects.count() == 3  # seen inside the transaction...
        transaction.set_rollback(True)
    assert not Event.objects.exists()  # ...and gone with it


def test_every_kind_of_money_change_records_its_event(books):
    account, older, newer = books
    contact = ContactFactory(account=account)
    item = BillingItemFactory(contact=contact, total_amount=Decimal("25.00"))
    legend = billing_items_pay(
        contact=contact,
        tender_type_id=TenderTypeFactory().pk,
        payment_date=timezone.now(),
        lines=[BillingLine(item.pk, "5.00")],
        actor=SYSTEM,
    ).payment
    billing_items_write_down(
        contact=contact,
        write_down_date=timezone.now(),
        lines=[WriteDownLine(item.pk, "2.00")],
        reason="Goodwill",
        actor=SYSTEM,
    )
    over = invoices_pay(
        account_id=account.pk, amount="40.00", actor=SYSTEM, invoice_ids=[], excess_to_credit=True
    ).payment
    credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[older.pk])
    refund_issue(account_id=account.pk, amount="4.00", actor=SYSTEM)
    credit_note_issue(
        invoice_id=newer.pk,
        number="CN-1",
        issue_date=days_ago(0),
        reason="Discount",
        lines=[CreditNoteLineInput("Discount", "50.00")],
        actor=SYSTEM,
    )
    payment_reverse(payment_id=legend.pk, reason="Bounced", actor=SYSTEM)

    recorded = events_of(account)
    assert [kind for kind, _data in recorded] == [
        "payment.created",
        "billing_item.written_down",
        "payment.created",
        "credit.applied",
        "invoice.paid",
        "refund.created",
        "credit_note.issued",
        "invoice.paid",
        "payment.reversed",
    ]
    by_kind = dict(recorded)
    assert by_kind["billing_item.written_down"] == {
        **head(account),
        "contactId": str(contact.guid),
        "billingId": str(item.pk),
        "amount": "2.00",
        "balance": "18.00",
        "writeDownDate": by_kind["billing_item.written_down"]["writeDownDate"],
        "reason": "Goodwill",
    }
    assert recorded[0][1]["allocations"] == [{"billingId": str(item.pk), "amount": "5.00"}]
    assert recorded[0][1]["contactId"] == str(contact.guid)
    assert recorded[2][1]["paymentId"] == str(over.pk)
    assert recorded[2][1]["toCredit"] == "40.00"
    assert by_kind["credit.applied"]["applications"] == [
        {"invoiceId": str(older.pk), "invoiceNumber": older.number, "amount": "30.00"}
    ]
    assert by_kind["credit.applied"]["creditBalance"] == "10.00"
    assert by_kind["refund.created"]["creditBalance"] == "6.00"
    assert (by_kind["credit_note.issued"]["appliedAmount"], recorded[7][1]["invoiceId"]) == (
        "50.00",
        str(newer.pk),
    )
    assert by_kind["payment.reversed"]["paymentId"] == str(legend.pk)


def test_events_are_never_changed_or_deleted(books):
    account, *_ = books
    invoices_pay(account_id=account.pk, amount="10.00", actor=SYSTEM)
    with (
        pytest.raises(ProgrammingError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE events_event SET type = 'x'")


@both_mounts
def test_billing_events_lists_the_accounts_events_in_chunks(client, mount, account, credential):
    InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("10.00"))
    other = AccountFactory()
    InvoiceFactory(account=other, due_date=days_ago(3), amount=Decimal("10.00"))
    invoices_pay(account_id=other.pk, amount="10.00", actor=SYSTEM)  # not this account's
    post(client, url(mount, account, "billing_payments"), {"paymentAmount": "10.00"}, credential)
    staff = Actor(channel=Channel.SYSTEM)
    for _ in range(3):
        invoices_pay(
            account_id=account.pk,
            amount="1.00",
            actor=staff,
            invoice_ids=[],
            excess_to_credit=True,
        )
    mine = list(Event.objects.filter(account=account).order_by("pk"))
    assert len(mine) == 5  # the API's payment and its invoice.paid, three payments to credit

    first = data(
        mount, get(client, url(mount, account, "billing_events"), credential, {"count": 2})
    )
    assert [e["eventId"] for e in first["billingEvents"]] == [str(e.event_id) for e in mine[:2]]
    assert first["billingEvents"][0]["type"] == "payment.created"
    assert first["billingEvents"][0]["data"]["channel"] == "docusign_api"
    assert first["previousUri"] is None
    seen = [e["eventId"] for e in first["billingEvents"]]
    page = first
    while page["nextUri"]:
        page = data(mount, get(client, page["nextUri"], credential))
        seen += [e["eventId"] for e in page["billingEvents"]]
    assert seen == [str(e.event_id) for e in mine]

    earlier = get(
        client,
        url(mount, account, "billing_events"),
        credential,
        {"from_date": days_ago(9).isoformat(), "to_date": days_ago(1).isoformat()},
    )
    assert data(mount, earlier)["billingEvents"] == []  # all of them happened today
    assert get(client, url(mount, other, "billing_events"), credential).status_code in (
        401,
        403,
        404,
    )


def test_events_in_the_admin_are_read_only(admin_client, books):
    account, *_ = books
    invoices_pay(account_id=account.pk, amount="10.00", actor=SYSTEM)
    event = Event.objects.get(type="payment.created")
    listing = admin_client.get("/admin/events/event/")
    assert listing.status_code == 200
    assert str(event.event_id) in listing.content.decode()
    page = admin_client.get(f"/admin/events/event/{event.pk}/change/")
    assert page.status_code == 200
    assert event.data["paymentNumber"] in page.content.decode()
    assert admin_client.post(f"/admin/events/event/{event.pk}/change/", {}).status_code == 403
    assert admin_client.get("/admin/events/event/add/").status_code == 403
