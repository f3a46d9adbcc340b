"""The background worker: procrastinate's job queue in PostgreSQL (docs/worker.md).

`worker.tasks` holds the project's tasks, `worker.queue` what `manage.py worker` runs: the
worker's own connection, the worker options from the settings, and the retry of stalled jobs.
"""
