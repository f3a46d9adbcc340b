"""Django's PostgreSQL backend, with a health check that does not ask the server when it has
nothing to say.

With `CONN_HEALTH_CHECKS` on, Django checks a reused connection at the start of every request
with `SELECT 1`: one round trip, and one transaction of its own, on every request (bench/cpu.py).
A server that drops a connection (a restart, a failover, `pg_terminate_backend`, an idle timeout,
a pooler going away) says so on the socket: an error message and the end of the stream, which
leave the socket readable. An idle connection between two requests has nothing to read. So the
check first polls the socket without waiting: nothing to read, the connection is used as it is;
anything to read (or a socket that cannot be polled), Django's own `SELECT 1` decides, and a dead
connection is replaced before the request uses it, as before (tests/test_faults_database.py).
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            readable = True
        if not readable:
            return True
        return super().is_usable()
