"""Calls run at the same instant, each in its own thread with its own database connection."""

import threading

from django.db import connection


def run_together(calls):
    """Run each call in its own thread, all released at once by a barrier.

    Returns (result, exception) per call, in the order of `calls`.
    """
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(index, call):
        try:
            connection.ensure_connection()  # connect first, so the calls themselves overlap
            barrier.wait(timeout=10)
            outcomes.append((index, call(), None))
        except Exception as error:  # handed to the main thread, asserted there
            outcomes.append((index, None, error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert len(outcomes) == len(calls)
    return [(result, error) for _index, result, error in sorted(outcomes, key=lambda o: o[0])]
