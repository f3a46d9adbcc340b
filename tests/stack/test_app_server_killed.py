"""One app server SIGKILLed (its master and every worker) under a payment load through nginx.

nginx sends what the dead server would have had to the other one: a refused connection always
(nothing was sent), a connection that died mid-request only for a POST with an Idempotency-Key
(deploy/nginx.conf.template: `@keyed_post`), whose second run is a replay or the only run. The
clients retry on what still reaches them (a lost connection, 502, 503) with the same key.
Afterwards every acknowledged payment is in the ledger exactly once and whole, and the ledger
verifies.
"""

import signal

import psutil

from .load import StackLoad, check_stack_ledger, plan_for

CLIENTS = 6
PER_CLIENT = 4  # invoices and as many billing items: 48 payments


def test_an_app_server_killed_under_load_loses_no_acknowledged_payment(stack):
    plan = plan_for(stack.seed(what="clients", count=CLIENTS, each=PER_CLIENT))
    victim_port = stack.ports["apps"][0]
    survivor_port = stack.ports["apps"][1]
    master = psutil.Process(int((stack.folder / "run" / f"app-{victim_port}.pid").read_text()))
    survivor_log_before = len(stack.log(f"app-{survivor_port}-access.log").splitlines())

    def kill_one_server(load) -> None:
        load.wait_for_acknowledged(load.total // 4)
        for process in [*master.children(), master]:
            process.send_signal(signal.SIGKILL)

    load = StackLoad(stack, plan)
    try:
        outcomes = load.run(kill_one_server, deadline=90)
        assert not master.is_running() or master.status() == psutil.STATUS_ZOMBIE
        check_stack_ledger(stack, outcomes, plan)
        served_after = stack.log(f"app-{survivor_port}-access.log").splitlines()
        assert len(served_after) - survivor_log_before >= load.total // 2  # it kept answering
    finally:
        stack.run("up")  # the killed server back (the rest is left as it is)
