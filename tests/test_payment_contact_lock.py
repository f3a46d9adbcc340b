"""A Legend payment's contact, its account lock and its tender type in one statement
(payments.locks.contact_for_payment), handed to the money service (`billing_items_pay`)."""

import uuid
from decimal import Decimal

import psycopg
import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from contacts.models import Account, Contact
from payments.actors import Actor, Channel
from payments.lines import BillingLine
from payments.locks import contact_for_payment
from payments.services import billing_items_pay
from tests.factories import BillingItemFactory, ContactFactory, TenderTypeFactory
from tests.postgres_servers import another_connection

ACTOR = Actor(channel=Channel.SYSTEM)


def fields(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def other_connection():
    return another_connection(connection.settings_dict, autocommit=True)


@pytest.mark.django_db
def test_it_reads_the_contact_its_account_and_whether_the_tender_type_is_active():
    contact = ContactFactory()
    active, inactive = TenderTypeFactory(is_active=True), TenderTypeFactory(is_active=False)

    found, lock = contact_for_payment(contact.guid, active.pk)
    assert fields(found) == fields(Contact.objects.get(pk=contact.pk))
    assert fields(found.account) == fields(Account.objects.get(pk=contact.account_id))
    assert lock.account is found.account
    assert (lock.tender_type_id, lock.tender_active) == (active.pk, True)
    assert contact_for_payment(contact.guid, inactive.pk)[1].tender_active is False
    assert contact_for_payment(contact.guid, 10**9)[1].tender_active is False
    assert contact_for_payment(contact.guid, None)[1].tender_active is True
    assert contact_for_payment(uuid.uuid4(), active.pk) is None


@pytest.mark.django_db(transaction=True)
def test_it_needs_a_transaction_to_hold_the_lock():
    contact = ContactFactory()
    with pytest.raises(TransactionManagementError):
        contact_for_payment(contact.guid, None)  # autocommit: the lock would end with it


@pytest.mark.django_db(transaction=True)
def test_it_locks_the_account_and_not_the_contact_until_the_transaction_ends():
    contact = ContactFactory()
    with transaction.atomic():
        contact_for_payment(contact.guid, None)
        with other_connection() as other:
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(
                    "SELECT 1 FROM contacts_account WHERE id = %s FOR UPDATE NOWAIT",
                    [contact.account_id],
                )
            other.execute(
                "SELECT 1 FROM contacts_contact WHERE id = %s FOR UPDATE NOWAIT", [contact.pk]
            )
    with other_connection() as other:
        other.execute(
            "SELECT 1 FROM contacts_account WHERE id = %s FOR UPDATE NOWAIT", [contact.account_id]
        )


@pytest.mark.django_db
def test_the_service_pays_with_the_lock_it_is_handed():
    item = BillingItemFactory(total_amount=Decimal("10.00"))
    tender = TenderTypeFactory(is_active=True)
    contact, lock = contact_for_payment(item.contact.guid, tender.pk)

    paid = billing_items_pay(
        contact=contact,
        tender_type_id=tender.pk,
        payment_date=item.created_at,
        lines=[BillingLine(billing_id=item.pk, amount=Decimal("2.50"))],
        actor=ACTOR,
        account_lock=lock,
    )

    assert paid.payment.amount == Decimal("2.50")
    item.refresh_from_db()
    assert item.balance == Decimal("7.50")


@pytest.mark.django_db
def test_the_service_refuses_a_lock_of_another_account_tender_type_or_transaction():
    item = BillingItemFactory(total_amount=Decimal("10.00"))
    stranger = ContactFactory()
    tender, other_tender = TenderTypeFactory(), TenderTypeFactory()
    _contact, strangers_lock = contact_for_payment(stranger.guid, tender.pk)
    contact, lock = contact_for_payment(item.contact.guid, tender.pk)

    def pay(contact, tender_type_id, account_lock):
        return billing_items_pay(
            contact=contact,
            tender_type_id=tender_type_id,
            payment_date=item.created_at,
            lines=[BillingLine(billing_id=item.pk, amount=Decimal("1.00"))],
            actor=ACTOR,
            account_lock=account_lock,
        )

    with pytest.raises(TransactionManagementError):
        pay(contact, tender.pk, strangers_lock)  # another account's lock
    with pytest.raises(TransactionManagementError):
        pay(contact, other_tender.pk, lock)  # read for another tender type
    with transaction.atomic():  # a lock of this transaction is held in its savepoints too
        pay(contact, tender.pk, lock)
    item.refresh_from_db()
    assert item.balance == Decimal("9.00")


@pytest.mark.django_db(transaction=True)
def test_the_service_refuses_a_lock_taken_in_a_transaction_that_ended():
    item = BillingItemFactory(total_amount=Decimal("10.00"))
    with transaction.atomic():
        contact, lock = contact_for_payment(item.contact.guid, None)

    with pytest.raises(TransactionManagementError):
        billing_items_pay(
            contact=contact,
            tender_type_id=None,
            payment_date=item.created_at,
            lines=[BillingLine(billing_id=item.pk, amount=Decimal("1.00"))],
            actor=ACTOR,
            account_lock=lock,
        )
    item.refresh_from_db()
    assert item.balance == Decimal("10.00")
