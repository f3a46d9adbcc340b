"""One Idempotency-Key sent many times at once, half to each app server: one payment, and every
answer the same 201 (one original, the rest replays). The key's record is in the shared
database, so it does not matter which server a retry reaches."""

import threading
from decimal import Decimal

import requests

SENDS = 12


def test_one_key_at_once_on_both_app_servers_pays_once(stack):
    (client,) = stack.seed(what="clients", count=1, each=1)
    (invoice,) = client["invoices"]
    path = f"/restapi/v2.1/accounts/{client['account']}/billing_payments"
    headers = {
        "Authorization": f"Bearer {client['secret']}",
        "Idempotency-Key": "one-key-two-servers",
        # As nginx says it (the app servers redirect plain HTTP to HTTPS otherwise).
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "127.0.0.1",
    }
    body = {"paymentAmount": invoice["amount"], "invoiceId": str(invoice["id"])}
    barrier = threading.Barrier(SENDS)
    answers: list = [None] * SENDS

    def send(index: int) -> None:
        session = requests.Session()
        url = stack.app_url(index % 2) + path
        session.head(stack.app_url(index % 2) + "/healthz", headers=headers, timeout=5)
        barrier.wait(timeout=10)
        answers[index] = session.post(url, json=body, headers=headers, timeout=30)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(SENDS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=40)

    assert [answer.status_code for answer in answers] == [201] * SENDS, [
        (a.status_code, a.text[:200]) for a in answers
    ]
    assert len({answer.content for answer in answers}) == 1
    replayed = sorted(str(answer.headers.get("Idempotent-Replayed")) for answer in answers)
    assert replayed == ["None"] + ["true"] * (SENDS - 1)
    (line,) = answers[0].json()["billingPayments"]
    payments = stack.sql(
        "SELECT p.id, p.amount FROM payments_payment p JOIN contacts_account a "
        "ON a.id = p.account_id WHERE a.number = %s",
        [client["account"]],
    )
    assert payments == [(int(line["paymentId"]), Decimal(invoice["amount"]))]
    assert stack.sql(
        "SELECT status_code FROM payments_idempotencyrecord WHERE key = %s",
        ["one-key-two-servers"],
    ) == [(201,)]
    for port in stack.ports["apps"]:  # both servers answered the POSTs
        posts = [line for line in stack.log(f"app-{port}-access.log").splitlines() if path in line]
        assert len(posts) == SENDS // 2, posts
