import uuid

import pytest

from tests.factories import AccountFactory, AccountRoleFactory
from tests.pay_books import past_due_books


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests run with DEBUG off but without `collectstatic`: serve static names unhashed."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache_prefix(settings):
    """Each test counts its rate limits under its own cache key prefix, so counters never leak
    between tests (Redis is shared and never flushed)."""
    settings.CACHES = {
        alias: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for alias, config in settings.CACHES.items()
    }


# The DocuSign API modules' caller: an account administrator's credential on a EUR account.
# A module that needs another set-up defines its own `role`.


@pytest.fixture
def role():
    return AccountRoleFactory(account=AccountFactory(currency="EUR"))


@pytest.fixture
def account(role):
    return role.account


@pytest.fixture
def credential(role):
    return role.credential


@pytest.fixture
def books():
    """An account's past-due invoices to pay from the back office (tests/pay_books.py)."""
    return past_due_books()
