"""The replica's replay paused: payments still succeed, with the right balances (no money path
reads the replica), and the dashboard, which reads the replica, says how stale its figures are."""

import re
import time
from decimal import Decimal

from .load import StackLoad, check_stack_ledger, plan_for
from .staff import signed_in


def test_payments_while_the_replica_lags_and_the_dashboard_says_so(stack):
    plan = plan_for(stack.seed(what="clients", count=2, each=2))
    staff = signed_in(stack)
    stack.sql("SELECT pg_wal_replay_pause()", port="replica")
    try:
        outcomes = StackLoad(stack, plan).run(lambda load: None, deadline=60)
        check_stack_ledger(stack, outcomes, plan)
        # What the replica shows is what it had before the pause: none of these payments.
        invoice_ids = [job.target_id for jobs in plan for job in jobs if job.api == "docusign"]
        assert stack.sql(
            "SELECT count(*) FROM payments_paymentallocation WHERE invoice_id = ANY(%s)",
            [invoice_ids],
            port="replica",
        ) == [(0,)]
        primary = stack.sql(
            "SELECT sum(balance) FROM invoices_invoice WHERE id = ANY(%s)", [invoice_ids]
        )
        assert primary == [(Decimal("0.00"),)]
        time.sleep(2)  # so that the lag is whole seconds
        page = staff.get(f"{stack.url}/backoffice/", timeout=10)
        assert page.status_code == 200, page.text[:500]
        found = re.search(r'<p id="figures-as-of"[^>]*>(.*?)</p>', page.text, re.S)
        assert found, page.text[:2000]
        text = " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())
        pattern = r"Figures as of \d\d:\d\d:\d\d UTC \(replica (\d+) s behind, replay paused\)"
        behind = re.fullmatch(pattern, text)
        assert behind, text
        assert int(behind.group(1)) >= 2
    finally:
        stack.sql("SELECT pg_wal_replay_resume()", port="replica")
