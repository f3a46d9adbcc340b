"""Debian's wrk, the load generator of bench/stack.py and bench/load.py: found, or installed."""

import os
import shutil
import subprocess
import sys


def ensure_wrk() -> str:
    """The path of `wrk`, installing Debian's package (as root) when it is missing."""
    if found := shutil.which("wrk"):
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("bench: wrk is not installed (Debian: apt-get install wrk)")
    print("bench: installing Debian's wrk", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True)  # noqa: S607
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],  # noqa: S607
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return shutil.which("wrk") or sys.exit("bench: wrk did not install")
