from decimal import Decimal

from payments.actors import SYSTEM
from payments.services import invoices_pay
from tests.factories import ApiCredentialFactory, InvoiceFactory, UserFactory


def test_smoke(db):
    from django.db import connection

    assert connection.vendor == "postgresql"
    inv = InvoiceFactory()
    paid = invoices_pay(
        account_id=inv.account_id, amount="100.00", actor=SYSTEM, settle_in_full=True
    )
    inv.refresh_from_db()
    assert inv.balance == Decimal("0.00")
    assert inv.status == "paid"
    assert paid.payment.amount == Decimal("100.00")
    assert ApiCredentialFactory().secret.startswith("bk_")
    assert UserFactory().check_password("password")
