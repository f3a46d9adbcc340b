"""How fresh the figures read from the replica are: the dashboard's "Figures as of HH:MM:SS UTC".

One query on the replica. A standby that has replayed all the WAL it received from the primary,
with replay not paused, is as fresh as it can be: the figures are as of now. Otherwise they are as
of the last transaction it replayed (`pg_last_xact_replay_timestamp()`), and the lag is how long
ago that was. A standby that is not streaming (no WAL received since it started: the primary is
unreachable) is counted as lagging too. Without a replica, reads come from the primary: now.
"""

import datetime
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from .db_router import read_alias

# pg_get_wal_replay_pause_state() (PostgreSQL 14+) raises outside recovery, hence the CASE.
FRESHNESS_SQL = """
SELECT pg_is_in_recovery(),
       pg_last_wal_receive_lsn(),
       pg_last_wal_replay_lsn(),
       pg_last_xact_replay_timestamp(),
       CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() END,
       now()
"""


@dataclass(frozen=True)
class Freshness:
    as_of: datetime.datetime | None  # None: a lagging standby that has replayed nothing yet
    lagging: bool = False
    lag_seconds: int = 0
    replay_paused: bool = False


def freshness_of(cursor) -> Freshness:
    """Ask the server behind `cursor` (a DB-API cursor) how fresh its data is."""
    cursor.execute(FRESHNESS_SQL)
    in_recovery, received, replayed, replayed_at, pause_state, now = cursor.fetchone()
    if not in_recovery:
        return Freshness(as_of=now)  # a primary (or the test database mirrored as the replica)
    paused = pause_state != "not paused"
    if received is not None and received == replayed and not paused:
        return Freshness(as_of=now)
    if replayed_at is None:
        return Freshness(as_of=None, lagging=True, replay_paused=paused)
    lag = max(int((now - replayed_at).total_seconds()), 0)
    return Freshness(as_of=replayed_at, lagging=True, lag_seconds=lag, replay_paused=paused)


def figures_freshness() -> Freshness:
    """How fresh the reads made now are (call it inside `replica_reads()`, beside the reads)."""
    alias = read_alias()
    if alias == DEFAULT_DB_ALIAS:
        return Freshness(as_of=timezone.now())  # the primary: no query
    with connections[alias].cursor() as cursor:
        return freshness_of(cursor)
