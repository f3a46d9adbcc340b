from django.apps import AppConfig


class WorkerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "worker"
    verbose_name = "Background worker"

    def ready(self) -> None:
        _procrastinate_migrations_untracked()


def _procrastinate_migrations_untracked() -> None:
    """procrastinate's migrations (RunProcrastinateSQL: its schema, as SQL files) run without the
    audit trail's statement context.

    `manage.py` opens a pghistory context for every command (audit.context.command_context), and
    pghistory then puts a parameterised `set_config(...)` in front of each statement, which makes
    psycopg read every `%` of the statement as a placeholder: procrastinate's functions contain
    `RAISE '... (job id: %)'`, and `manage.py migrate` failed on them. Those migrations only create
    procrastinate's own tables and functions, which the audit trail does not track."""
    from procrastinate.contrib.django.migrations_utils import RunProcrastinateSQL

    from audit.context import untracked_statements

    if getattr(RunProcrastinateSQL, "_untracked", False):
        return

    def untracked(method):
        def run(self, app_label, schema_editor, from_state, to_state):
            with untracked_statements():
                return method(self, app_label, schema_editor, from_state, to_state)

        return run

    RunProcrastinateSQL.database_forwards = untracked(RunProcrastinateSQL.database_forwards)
    RunProcrastinateSQL.database_backwards = untracked(RunProcrastinateSQL.database_backwards)
    RunProcrastinateSQL._untracked = True
