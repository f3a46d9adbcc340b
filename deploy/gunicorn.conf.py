"""gunicorn settings of the stack's app servers (deploy/stack starts each with its own --bind).

Behind nginx, which buffers every request body and every response (deploy/nginx.conf.template),
a worker is busy only while Django computes an answer: a slow client costs nginx a connection,
never a worker. So the workers are plain sync workers, as many as the cores can keep busy, and no
threads: measured on this 2-core machine (docs/scaling.md, bench/stack.py --worker-classes),
gthread workers (3 x 4 threads) served about as many API requests a second as sync ones (1.11x,
within the noise; the work is CPU in Python, one GIL per process) with a worse tail latency, and
a SIGKILL of a threaded worker takes several requests down at once instead of one.

Every value can be overridden from the environment (GUNICORN_WORKERS, GUNICORN_WORKER_CLASS,
GUNICORN_THREADS, GUNICORN_TIMEOUT), e.g. to measure again on other hardware.
"""

import multiprocessing
import os

# Two app servers share the machine's cores: each gets as many workers as there are cores, plus
# one to cover a worker waiting on PostgreSQL (2 cores: 3 each, 6 in all).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))

# A request that takes longer than this is a stuck worker, killed and replaced. nginx never makes
# a worker wait for a client, so this only ever fires on the server's own slowness.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
# nginx keeps connections to the app servers open (upstream keepalive); sync workers close after
# each response anyway, gthread ones keep them for this long.
keepalive = 5

# Recycle workers now and then, so a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500

# nginx is the only client; it sets X-Forwarded-For and X-Forwarded-Proto (Django reads them,
# NUM_PROXIES=1 and SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = "127.0.0.1"

# Which server and which worker answered: the tests read the access log to see both served.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s'
capture_output = True
