#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings")
    from django.core.management import execute_from_command_line

    from billing_site.startup import load_settings_or_exit

    # A configuration error (e.g. no SECRET_KEY outside DEBUG) is one line on stderr and exit 1.
    load_settings_or_exit("manage.py")

    from audit.context import command_context

    # Rows a command changes are recorded in the audit trail as channel "command" (docs/audit.md).
    with command_context(sys.argv):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
