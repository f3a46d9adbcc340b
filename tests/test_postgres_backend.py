"""The health check of reused connections (billing_site/postgres_backend): an idle connection the
server has said nothing on is used without a round trip; one the server dropped is found dead."""

import time

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql

from tests.postgres_servers import another_connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_idle_live_connection_is_usable_without_asking_the_server(monkeypatch):
    connection.ensure_connection()
    asked = []
    monkeypatch.setattr(
        django_postgresql.DatabaseWrapper, "is_usable", lambda self: asked.append(1) or True
    )
    assert connection.is_usable() is True
    assert asked == []  # no SELECT 1


def test_a_connection_the_server_dropped_is_found_dead_and_replaced():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with another_connection(connection.settings_dict, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's goodbye reaches the socket
    assert connection.is_usable() is False

    connection.health_check_done = False
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:  # a new connection
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_the_project_uses_it():
    default = connections["default"]
    assert type(default).__module__ == "billing_site.postgres_backend.base"
    assert default.vendor == "postgresql"
