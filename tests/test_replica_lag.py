"""The dashboard's "figures as of", against a real streaming replica.

The test starts its own primary and hot standby (initdb, `pg_basebackup -R`), pauses replay on
the standby, commits on the primary, and reads what billing_site.replica says; then resumes.
"""

import datetime
import time

import psycopg

from billing_site.replica import Freshness, freshness_of
from tests.postgres_servers import streaming_pair


def freshness(conninfo: str) -> Freshness:
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cursor:
        return freshness_of(cursor)


def wait_for(condition, deadline: float = 20.0):
    stop = time.monotonic() + deadline
    while not (value := condition()):
        assert time.monotonic() < stop, "timed out"
        time.sleep(0.1)
    return value


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def test_a_paused_replica_reports_its_lag_and_catches_up_when_resumed():
    with streaming_pair() as pair:
        with psycopg.connect(pair.primary, autocommit=True) as primary:
            primary.execute("CREATE TABLE ledger (id int)")
            primary.execute("INSERT INTO ledger VALUES (1)")
            with psycopg.connect(pair.replica, autocommit=True) as replica:
                wait_for(lambda: replica.execute("SELECT to_regclass('ledger')").fetchone()[0])
                caught_up = wait_for(lambda: (f := freshness(pair.replica)).lagging is False and f)
                assert abs(caught_up.as_of - now()) < datetime.timedelta(seconds=5)
                assert (caught_up.lag_seconds, caught_up.replay_paused) == (0, False)

                replica.execute("SELECT pg_wal_replay_pause()")
                wait_for(
                    lambda: (
                        replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0]
                        == "paused"
                    )
                )
                last_replayed = replica.execute("SELECT pg_last_xact_replay_timestamp()").fetchone()
                time.sleep(2.2)
                primary.execute("INSERT INTO ledger VALUES (2)")
                wait_for(
                    lambda: replica.execute(
                        "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"
                    ).fetchone()[0]
                )

                behind = freshness(pair.replica)
                assert behind.lagging is True
                assert behind.replay_paused is True
                assert behind.as_of == last_replayed[0]
                assert behind.as_of < now() - datetime.timedelta(seconds=2)
                assert behind.lag_seconds >= 2
                assert replica.execute("SELECT count(*) FROM ledger").fetchone()[0] == 1

                replica.execute("SELECT pg_wal_replay_resume()")
                resumed = wait_for(lambda: (f := freshness(pair.replica)).lagging is False and f)
                assert abs(resumed.as_of - now()) < datetime.timedelta(seconds=5)
                assert resumed.lag_seconds == 0
                assert replica.execute("SELECT count(*) FROM ledger").fetchone()[0] == 2

        on_primary = freshness(pair.primary)  # not in recovery: as of now
        assert (on_primary.lagging, on_primary.lag_seconds) == (False, 0)
        assert abs(on_primary.as_of - now()) < datetime.timedelta(seconds=5)
