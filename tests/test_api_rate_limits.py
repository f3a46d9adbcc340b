"""API rate limits (billing_site/api/throttles.py, docs/limits.md): the burst limit per
credential, the hourly limit per account, failed authentications per client address; 429 with
Retry-After in each API's own shape; counted in Redis, shared by several gunicorn workers."""

import json
import logging
import re
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
import redis
import requests
from django.core.checks import run_checks
from django.utils import timezone

from billing_site.api.throttles import client_address, hit, peek
from contacts.roles import Role
from payments.models import IdempotencyRecord, Payment
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    ApiCredentialFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    InvoiceItemFactory,
    days_ago,
)
from tests.servers import free_port, gunicorn_server

pytestmark = pytest.mark.django_db

SHAPES = ("restapi", "seed", "legend")


def expected_wait_text(retry_after: int) -> str:
    unit = "second" if retry_after == 1 else "seconds"
    return f"Expected available in {retry_after} {unit}."


@pytest.fixture
def caller():
    """An admin credential on an account with a contact (for Legend's GET /POS/Billings)."""
    role = AccountRoleFactory(role=Role.ADMIN)
    contact = ContactFactory(account=role.account)
    return role, contact


def request_for(client, shape, role, contact, secret=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret or role.credential.secret}", **extra}
    if shape == "legend":
        return client.get("/POS/Billings", {"ContactId": str(contact.guid)}, **headers)
    prefix = "/restapi/v2.1" if shape == "restapi" else "/v2.1"
    return client.get(f"{prefix}/accounts/{role.account.number}/billing_invoices", **headers)


def assert_429(shape, response, code, message_start, contact=None):
    """The exact 429 body of each API, with Retry-After in whole seconds (at least 1)."""
    assert response.status_code == 429, response.content
    retry_after = int(response["Retry-After"])
    assert retry_after >= 1
    message = f"{message_start} {expected_wait_text(retry_after)}"
    body = response.json()
    if shape == "restapi":
        assert body == {"errorCode": code, "message": message}
    elif shape == "seed":
        assert body == {
            "success": False,
            "error": {
                "code": "TOO_MANY_REQUESTS",
                "message": message,
                "details": {"errorCode": code},
            },
        }
    else:
        assert body == {
            "ContactId": str(contact.guid) if contact else None,
            "Success": False,
            "ErrorMessage": message,
            "Billings": [],
        }
    return retry_after


@pytest.mark.parametrize("shape", SHAPES)
def test_burst_limit_answers_429_with_retry_after_in_each_apis_shape(
    client, settings, caller, shape
):
    settings.API_BURST_LIMIT, settings.API_BURST_WINDOW = 2, 30
    role, contact = caller
    first, second = (request_for(client, shape, role, contact) for _ in range(2))
    refused = request_for(client, shape, role, contact)

    assert (first.status_code, second.status_code) == (200, 200)
    assert first["X-RateLimit-Limit"] == "3000"  # the hourly limit, as DocuSign shows it
    assert (first["X-RateLimit-Remaining"], second["X-RateLimit-Remaining"]) == ("2999", "2998")
    assert time.time() < int(first["X-RateLimit-Reset"]) <= time.time() + 3600
    retry_after = assert_429(
        shape,
        refused,
        "BURST_APIINVOCATION_LIMIT_EXCEEDED",
        "API rate limit exceeded: 2 requests per 30 seconds.",
        contact,
    )
    assert retry_after <= 30
    assert (refused["X-RateLimit-Limit"], refused["X-RateLimit-Remaining"]) == ("2", "0")
    # Another credential is not limited by this one's burst.
    other = AccountRoleFactory(account=role.account)
    assert request_for(client, shape, other, contact).status_code == 200


def test_hourly_limit_is_per_account_whichever_credential_or_reference(client, settings):
    settings.API_HOURLY_LIMIT = 3
    account, elsewhere = AccountFactory(), AccountFactory()
    first, second = AccountRoleFactory(account=account), AccountRoleFactory(account=account)
    AccountRoleFactory(account=elsewhere, credential=first.credential)

    def call(role, reference, mount="/restapi/v2.1"):
        return client.get(
            f"{mount}/accounts/{reference}/billing_invoices_past_due",
            HTTP_AUTHORIZATION=f"Bearer {role.credential.secret}",
        )

    statuses = [
        call(first, account.number).status_code,
        call(second, account.guid, "/v2.1").status_code,
        call(first, account.guid).status_code,
    ]
    refused = call(second, account.number)

    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["errorCode"] == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
    assert refused.json()["message"].startswith("API rate limit exceeded: 3 requests per hour.")
    assert 3000 < int(refused["Retry-After"]) <= 3600
    # The credential's other account has its own hourly count.
    assert call(first, elsewhere.number).status_code == 200


def test_legend_hourly_limit_is_per_credential(client, settings, caller):
    settings.API_HOURLY_LIMIT = 2
    role, contact = caller
    statuses = [request_for(client, "legend", role, contact).status_code for _ in range(2)]

    assert statuses == [200, 200]
    assert_429(
        "legend",
        request_for(client, "legend", role, contact),
        None,
        "API rate limit exceeded: 2 requests per hour.",
        contact,
    )


def test_a_refused_docusign_payment_writes_nothing_and_leaves_its_idempotency_key_free(
    client, settings
):
    role = AccountRoleFactory()
    invoice = InvoiceFactory(account=role.account, due_date=days_ago(10), amount=Decimal("30.00"))
    InvoiceItemFactory(invoice=invoice, unit_price=Decimal("30.00"))
    url = f"/restapi/v2.1/accounts/{role.account.number}/billing_payments"
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {role.credential.secret}",
        "HTTP_IDEMPOTENCY_KEY": "k1",
    }
    settings.API_BURST_LIMIT = 1
    assert client.get(url, HTTP_AUTHORIZATION=headers["HTTP_AUTHORIZATION"]).status_code == 200

    refused = client.post(
        url, {"paymentAmount": "30.00"}, content_type="application/json", **headers
    )

    assert refused.status_code == 429
    assert (Payment.objects.count(), IdempotencyRecord.objects.count()) == (0, 0)
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("30.00")
    settings.API_BURST_LIMIT = 10
    paid = client.post(url, {"paymentAmount": "30.00"}, content_type="application/json", **headers)
    assert paid.status_code == 201, paid.content
    assert "Idempotent-Replayed" not in paid
    assert (Payment.objects.count(), IdempotencyRecord.objects.count()) == (1, 1)


def test_a_refused_legend_payment_writes_nothing_and_leaves_its_idempotency_key_free(
    client, settings
):
    role = AccountRoleFactory(role=Role.BILLING_PAYMENT)
    item = BillingItemFactory(contact=ContactFactory(account=role.account))
    body = {
        "ContactId": str(item.contact.guid),
        "PaymentDate": "2026-11-21T10:00:00+00:00",
        "TenderTypeId": 3,
        "BillingPayments": [{"BillingId": item.pk, "Amount": 10.00}],
    }
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {role.credential.secret}",
        "HTTP_IDEMPOTENCY_KEY": "k1",
    }
    settings.API_BURST_LIMIT = 1
    assert (
        client.get("/POS/Billings", {"ContactId": body["ContactId"]}, **headers).status_code == 200
    )

    refused = client.post("/POS/BillingPayments", body, content_type="application/json", **headers)

    assert refused.status_code == 429
    assert refused.json()["ContactId"] == body["ContactId"]
    assert refused.json()["BillingPayments"] == []
    assert (Payment.objects.count(), IdempotencyRecord.objects.count()) == (0, 0)
    settings.API_BURST_LIMIT = 10
    paid = client.post("/POS/BillingPayments", body, content_type="application/json", **headers)
    assert paid.status_code == 200
    assert paid.json()["Success"] is True
    assert (Payment.objects.count(), IdempotencyRecord.objects.count()) == (1, 1)


@pytest.mark.parametrize("shape", SHAPES)
def test_failed_authentications_lock_the_address_out_even_with_a_good_key(
    client, settings, caller, shape
):
    settings.API_AUTH_FAILURE_LIMIT, settings.API_AUTH_FAILURE_WINDOW = 3, 300
    role, contact = caller
    revoked = ApiCredentialFactory(revoked_at=timezone.now())
    bad = ["bk_wrong", revoked.secret, "bk_wrong"]
    failures = [request_for(client, shape, role, contact, secret).status_code for secret in bad]

    assert failures == [401, 401, 401]
    retry_after = assert_429(
        shape,
        request_for(client, shape, role, contact),  # the good key
        "TOO_MANY_REQUESTS",
        "Too many failed authentications from this address (3 per 300 seconds).",
        contact,
    )
    assert retry_after <= 300
    # Another address is not locked out; X-Forwarded-For is not trusted by default.
    elsewhere = request_for(client, shape, role, contact, REMOTE_ADDR="10.0.0.2")
    assert elsewhere.status_code == 200
    spoofed = request_for(client, shape, role, contact, HTTP_X_FORWARDED_FOR="10.0.0.3")
    assert spoofed.status_code == 429


@pytest.mark.parametrize("shape", SHAPES)
def test_a_locked_out_address_gets_429_for_a_good_key_the_permission_check_refuses(
    client, settings, caller, shape
):
    """A good key's 403 from a locked-out address would tell it from a bad key's 429."""
    settings.API_AUTH_FAILURE_LIMIT, settings.API_AUTH_FAILURE_WINDOW = 2, 300
    role, contact = caller
    # Refused by the permission check: a key of another account (DocuSign), a key without any
    # role (Legend, whose check is "on some account").
    stranger = AccountRoleFactory().credential if shape != "legend" else ApiCredentialFactory()
    assert request_for(client, shape, role, contact, stranger.secret).status_code == 403
    failures = [request_for(client, shape, role, contact, "bk_wrong") for _ in range(2)]

    assert [failure.status_code for failure in failures] == [401, 401]
    assert_429(
        shape,
        request_for(client, shape, role, contact, stranger.secret),
        "TOO_MANY_REQUESTS",
        "Too many failed authentications from this address (2 per 300 seconds).",
        contact,
    )


def test_a_locked_out_address_is_refused_without_being_counted_further(client, settings, caller):
    settings.API_AUTH_FAILURE_LIMIT, settings.API_AUTH_FAILURE_WINDOW = 2, 300
    role, contact = caller
    statuses = [request_for(client, "restapi", role, contact, "bk_wrong").status_code]
    statuses.append(
        client.get(
            f"/restapi/v2.1/accounts/{role.account.number}/billing_invoices",
            HTTP_AUTHORIZATION="Bearer two words",  # malformed: a failure too
        ).status_code
    )
    statuses += [request_for(client, "restapi", role, contact, "bk_wrong").status_code]
    statuses.append(
        client.get(
            f"/restapi/v2.1/accounts/{role.account.number}/billing_invoices",
            HTTP_AUTHORIZATION="Bearer two words",
        ).status_code
    )
    statuses.append(request_for(client, "restapi", role, contact).status_code)  # the good key

    assert statuses == [401, 401, 429, 429, 429]
    assert peek("authfail:127.0.0.1").count == 2  # the refused requests counted nothing
    assert peek(f"burst:credential:{role.credential.pk}") is None  # nor the good key's


def test_an_allowed_partner_request_makes_one_round_trip_to_redis(client, caller, monkeypatch):
    """Every limit, and the address's failed authentications, in one script call."""
    role, contact = caller
    assert request_for(client, "restapi", role, contact).status_code == 200  # the script loaded
    commands = []
    execute = redis.Redis.execute_command

    def counted(self, *args, **options):
        commands.append(args[0])
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    statuses = [request_for(client, shape, role, contact).status_code for shape in SHAPES]

    assert statuses == [200, 200, 200]
    assert commands == ["EVALSHA"] * 3


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(client, settings, caller):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.API_AUTH_FAILURE_LIMIT = 1
    role, contact = caller
    proxy = {"REMOTE_ADDR": "10.9.9.9"}

    bad = request_for(
        client,
        "restapi",
        role,
        contact,
        "bk_wrong",
        HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2",
        **proxy,
    )
    locked = request_for(client, "restapi", role, contact, HTTP_X_FORWARDED_FOR="2.2.2.2", **proxy)
    other = request_for(client, "restapi", role, contact, HTTP_X_FORWARDED_FOR="3.3.3.3", **proxy)

    assert (bad.status_code, locked.status_code, other.status_code) == (401, 429, 200)


def test_client_address_trusts_no_proxy_by_default(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 7.7.7.7")
    assert client_address(request) == "10.0.0.1"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 2}
    assert client_address(request) == "6.6.6.6"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 5}
    assert client_address(request) == "6.6.6.6"


def test_limits_fail_open_and_log_when_redis_is_unreachable(client, settings, caller, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.API_BURST_LIMIT = settings.API_AUTH_FAILURE_LIMIT = 1
    role, contact = caller
    caplog.set_level(logging.ERROR, logger="billing_site.api.throttles")
    import billing_site.api.throttles as throttles

    throttles._last_logged = 0.0

    statuses = [request_for(client, "restapi", role, contact).status_code for _ in range(3)]
    bad = request_for(client, "restapi", role, contact, "bk_wrong")

    assert statuses == [200, 200, 200]
    assert bad.status_code == 401
    assert [record.getMessage().split(":")[0] for record in caplog.records] == [
        "API rate limits not enforced (failing open)"
    ]


def test_the_quick_starts_local_cache_counts_too_and_is_warned_about(client, settings, caller):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.API_BURST_LIMIT = 1
    role, contact = caller

    assert request_for(client, "restapi", role, contact).status_code == 200
    refused = request_for(client, "restapi", role, contact)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 30
    assert [message.id for message in run_checks() if message.id.startswith("billing.")] == [
        "billing.W001"
    ]


def test_no_warning_with_the_shared_redis_cache():
    assert [message.id for message in run_checks() if message.id.startswith("billing.")] == []


def test_concurrent_hits_each_get_their_own_count():
    """One atomic step per hit: 20 threads at once count 1..20, none lost or repeated."""
    barrier, counts = threading.Barrier(20), []

    def one() -> None:
        barrier.wait(timeout=10)
        counts.append(hit("concurrency", 30).count)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(counts) == list(range(1, 21))


# Several gunicorn workers share the counters.

ACCESS_LOG = re.compile(r"^worker=<(\d+)> status=(\d{3}) path=(\S+)$", re.MULTILINE)


@pytest.mark.django_db(transaction=True)
def test_the_burst_limit_holds_across_several_worker_processes(tmp_path):
    limit, total, threads = 12, 30, 6
    role = AccountRoleFactory()
    url = f"/restapi/v2.1/accounts/{role.account.number}/billing_invoices_past_due"
    # gunicorn's access log names the worker process (%(p)s) that answered each request.
    env = {
        "API_BURST_LIMIT": str(limit),
        "GUNICORN_CMD_ARGS": "--access-logfile - "
        "--access-logformat 'worker=%(p)s status=%(s)s path=%(U)s'",
    }
    with gunicorn_server(tmp_path, workers=3, env=env) as server:
        responses: list = []
        lock, barrier = threading.Lock(), threading.Barrier(threads)

        def send(count: int) -> None:
            with requests.Session() as session:
                barrier.wait(timeout=10)
                for _ in range(count):
                    # A new connection each time, so the workers share the requests out.
                    response = session.get(
                        server.url + url,
                        headers={
                            "Authorization": f"Bearer {role.credential.secret}",
                            "Connection": "close",
                        },
                        timeout=10,
                    )
                    with lock:
                        responses.append(response)

        workers = [threading.Thread(target=send, args=(total // threads,)) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert not any(worker.is_alive() for worker in workers)
    log = server.log()  # complete once the workers have exited

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: limit, 429: total - limit}
    for refused in (response for response in responses if response.status_code == 429):
        assert 1 <= int(refused.headers["Retry-After"]) <= 30
        assert json.loads(refused.content)["errorCode"] == "BURST_APIINVOCATION_LIMIT_EXCEEDED"
    served = [
        (int(pid), int(status)) for pid, status, path in ACCESS_LOG.findall(log) if path == url
    ]
    assert Counter(status for _, status in served) == statuses
    assert len({pid for pid, _ in served}) > 1, log
