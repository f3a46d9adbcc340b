"""Tasks for the worker tests only: a `manage.py worker` subprocess imports them
(WORKER_IMPORT_PATHS=tests.worker_tasks), the test process when it defers them.

`hold` writes one line to `<folder>/attempts` when it starts, then waits until `<folder>/release`
exists, then writes one line to `<folder>/done`: a test counts the attempts and the completions,
and decides when a job may end (to kill or stop its worker while it runs)."""

import os
import time
from pathlib import Path

from procrastinate.contrib.django import app

HOLD_AT_MOST = 30.0  # seconds a held job waits for its release before it gives up (fails)


@app.task(name="tests.hold")
def hold(folder: str) -> None:
    where = Path(folder)
    with (where / "attempts").open("a") as attempts:
        attempts.write(f"{os.getpid()}\n")
    stop = time.monotonic() + HOLD_AT_MOST
    while not (where / "release").exists():
        if time.monotonic() > stop:
            raise TimeoutError(f"{where / 'release'} never appeared")
        time.sleep(0.02)
    with (where / "done").open("a") as done:
        done.write(f"{os.getpid()}\n")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
