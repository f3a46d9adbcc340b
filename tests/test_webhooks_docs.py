"""docs/webhooks.md's receiver, run as written: it accepts a real delivery, signed by the worker's
code, handles a retry of it once, and refuses a forged one."""

import io
import re
import threading
from contextlib import redirect_stdout
from decimal import Decimal
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests

from payments.actors import SYSTEM
from payments.services import invoices_pay
from tests.factories import AccountFactory, InvoiceFactory, days_ago
from webhooks import sending, services
from webhooks.models import Delivery, DeliveryAttempt

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parent.parent / "docs" / "webhooks.md"


def receiver_code() -> str:
    section = DOC.read_text().split("## A receiver that verifies a delivery", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def test_the_documented_receiver_verifies_a_delivery_and_refuses_a_forgery(monkeypatch):
    account = AccountFactory(currency="EUR")
    InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("42.00"))
    server = make_server("127.0.0.1", 0, lambda *a: app(*a), handler_class=Quiet)
    url = f"http://127.0.0.1:{server.server_port}/hooks/billing"
    subscription, secret = services.subscription_create(
        url=url, accounts=[account], event_types=["payment.created"]
    )
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    namespace = {"__name__": "receiver"}  # not "__main__": it does not serve by itself
    exec(receiver_code(), namespace)  # noqa: S102 - the documentation's own example
    app = namespace["receiver"]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    printed = io.StringIO()
    try:
        payment = invoices_pay(account_id=account.pk, amount="42.00", actor=SYSTEM).payment
        delivery = Delivery.objects.get(subscription=subscription)
        with redirect_stdout(printed):
            assert sending.attempt(delivery.pk, str(delivery.ticket)).startswith(
                "delivered (HTTP 204"
            )
            # Sent again (a redelivery): acknowledged, not handled twice.
            services.deliveries_resend([delivery])
            delivery.refresh_from_db()
            assert sending.attempt(delivery.pk, str(delivery.ticket)).startswith(
                "delivered (HTTP 204"
            )
        forged = requests.post(
            url,
            data=b'{"type":"payment.created","timestamp":"x","data":{}}',
            headers={
                "webhook-id": "forged",
                "webhook-timestamp": "1796558400",
                "webhook-signature": "v1,AAAA",
            },
            timeout=5,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert printed.getvalue() == f"payment.created {account.number} {payment.pk} 42.00\n"
    assert [a.status_code for a in DeliveryAttempt.objects.order_by("pk")] == [204, 204]
    assert (forged.status_code, forged.text) == (400, "bad signature")
