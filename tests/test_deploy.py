"""Production settings: `check --deploy` is clean, HTTPS is enforced behind the TLS proxy, staff
pages carry a Content Security Policy, API answers are never cached, no server version banner."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.factories import AccountRoleFactory, ContactFactory, UserFactory
from tests.servers import gunicorn_server

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "billing.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://billing.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/billing",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
# Settings a deployment leaves at their defaults (the test run itself turns the redirect off).
DEFAULTED = ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE")


def test_check_deploy_reports_no_warning_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k not in DEFAULTED} | PRODUCTION_ENV
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.fixture
def production_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True


def test_plain_http_is_redirected_to_https(client, production_https):
    response = client.get("/admin/login/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/admin/login/"


def test_https_through_the_proxy_is_served_with_hsts(client, production_https):
    response = client.get("/admin/login/", headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def test_the_admin_login_page_carries_a_content_security_policy(client):
    response = client.get("/admin/login/")

    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no nonce asked for: no inline script at all
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_back_office_carries_a_content_security_policy(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/backoffice/")

    assert response.status_code == 200
    directives = csp_directives(response)
    assert directives["script-src"][0] == "'self'"
    assert directives["style-src"][0] == "'self'"
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "Cache-Control" not in response or "no-store" not in response["Cache-Control"]


def test_redoc_runs_no_inline_script_and_may_start_its_worker(client):
    response = client.get("/api/redoc/")

    assert response.status_code == 200
    scripts = re.findall(r"<script[^>]*>", response.content.decode())
    assert scripts == [
        '<script src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js">'
    ]
    assert csp_directives(response)["worker-src"] == ["blob:"]
    assert csp_directives(response)["style-src"] == ["'self'", "'unsafe-inline'"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/restapi/v2.1/accounts/{number}/billing_invoices_past_due", 200),
        ("/v2.1/accounts/{number}/billing_invoices_past_due", 200),
        ("/restapi/v2.1/accounts/{number}/billing_payments/999999", 404),
        ("/restapi/v2.1/accounts/{number}/no_such_endpoint", 404),
        ("/POS/Billings?ContactId={contact}", 200),
        ("/pos/billings?ContactId={contact}", 200),
        ("/POS/NoSuchEndpoint", 404),
    ],
)
def test_api_answers_are_never_stored_and_carry_no_csp(client, path, status):
    role = AccountRoleFactory()
    contact = ContactFactory(account=role.account)
    url = path.format(number=role.account.number, contact=contact.guid)

    response = client.get(url, headers={"Authorization": f"Bearer {role.credential.secret}"})

    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" not in response


@pytest.mark.django_db
def test_the_policy_is_not_even_built_for_an_api_answer(client, monkeypatch):
    """django-csp builds it before it reads the excluded prefixes (billing_site/csp_middleware)."""
    import csp.middleware

    built = []
    build_policy = csp.middleware.build_policy
    monkeypatch.setattr(
        csp.middleware, "build_policy", lambda **kw: built.append(1) or build_policy(**kw)
    )
    role = AccountRoleFactory()
    url = f"/restapi/v2.1/accounts/{role.account.number}/billing_invoices_past_due"

    api = client.get(url, headers={"Authorization": f"Bearer {role.credential.secret}"})
    assert (api.status_code, built) == (200, [])
    page = client.get("/admin/login/")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert built != []


def test_a_refused_api_request_is_not_stored_either(client):
    response = client.get("/restapi/v2.1/accounts/1/billing_payments")

    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db(transaction=True)
def test_the_app_server_sends_no_version_banner(tmp_path):
    role = AccountRoleFactory()
    with gunicorn_server(tmp_path, workers=1) as server:
        response = requests.get(
            f"{server.url}/restapi/v2.1/accounts/{role.account.number}/billing_payments",
            headers={"Authorization": f"Bearer {role.credential.secret}"},
            timeout=10,
        )
        page = requests.get(f"{server.url}/backoffice/", timeout=10, allow_redirects=False)

    assert response.status_code == 200
    assert page.status_code == 302  # to the login page
    for answer in (response, page):
        assert answer.headers.get("Server", "") in {"", "gunicorn"}  # a name, no version
        assert "X-Powered-By" not in answer.headers
