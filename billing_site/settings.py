"""Settings, all read from the environment (see .env.example).

PostgreSQL only: `DATABASE_URL` unset means, with DEBUG on, the quick start's own server
(scripts/quickstart-postgres, started by `make run`); outside DEBUG it must be set. SQLite and
other databases are refused. Outside DEBUG a missing `SECRET_KEY` stops the start.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if number < 0:
        raise ImproperlyConfigured(f"{name} must not be negative, not {value!r}.")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


POSTGRESQL_URL = "postgres://USER[:PASSWORD]@HOST[:PORT]/NAME"


def _shown_url(url: str) -> str:
    """The URL for an error message, its password (up to the last @) replaced by ***."""
    scheme, separator, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not separator or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}:***@{host}"


POSTGRESQL_ENGINE = "billing_site.postgres_backend"


def database_config(name: str, url: str) -> dict:
    """A PostgreSQL database from the URL in the variable `name`. Anything else stops the start
    with one line: a URL that does not parse, SQLite (which stores decimals as floating point:
    balances such as 106.920000000000 and ledger drift), another database (the money rules, row
    locks and the audit trail are PostgreSQL's), or one that names no database."""
    try:
        config = dj_database_url.parse(
            url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} is not a database URL: {_shown_url(url)!r} (expected {POSTGRESQL_URL}, "
            "special characters %-quoted)."
        ) from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        instead = (
            "Unset it for the quick start's own PostgreSQL (`make run` starts it, "
            f"scripts/quickstart-postgres), or name a PostgreSQL server: {POSTGRESQL_URL}."
            if name == "DATABASE_URL"
            else f"Name a PostgreSQL server: {POSTGRESQL_URL}."
        )
        raise ImproperlyConfigured(
            f"{name} names SQLite, which stores money as floating point (106.92 comes back as "
            f"106.920000000000): money needs PostgreSQL's exact numerics. {instead}"
        )
    if engine != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"{name} must name a PostgreSQL database ({POSTGRESQL_URL}), not {engine}: the money "
            "rules, row locks and audit trail are PostgreSQL's."
        )
    if not config.get("NAME") and "service" not in config.get("OPTIONS", {}):
        raise ImproperlyConfigured(
            f"{name} names no database: {_shown_url(url)!r} (expected {POSTGRESQL_URL})."
        )
    # Django's backend with a health check that polls the socket before asking the server.
    config["ENGINE"] = POSTGRESQL_ENGINE
    return config


def quickstart_database_url() -> str:
    """The quick start's own PostgreSQL (scripts/quickstart-postgres url)."""
    port = env_int("QUICKSTART_PG_PORT", 5440)
    if not 1 <= port <= 65535:
        raise ImproperlyConfigured(f"QUICKSTART_PG_PORT must be a port number, not {port}.")
    return f"postgres://postgres@127.0.0.1:{port}/billing"


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    SECRET_KEY = "insecure-development-only-key"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    # The background worker's queue (docs/worker.md); before `worker`, whose tasks it registers.
    "procrastinate.contrib.django",
    "contacts",
    "invoices",
    "payments",
    "backoffice",
    "statements",
    "audit",
    "oauth",
    "events",
    "webhooks",
    "worker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A plain 503 (Retry-After) instead of a 500 when the database is down: see the module.
    "billing_site.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContextMiddleware",  # who and which channel, for the audit trail
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "billing_site.csp_middleware.CSPMiddleware",  # django-csp's, skipping excluded paths
    "billing_site.api.headers.ApiResponseHeadersMiddleware",
    "payments.legend.middleware.LegendPathCaseMiddleware",
    "billing_site.api.throttles.RateLimitHeadersMiddleware",
    # Last, as django-axes asks: locks staff logins out after repeated failures (see AXES_*).
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "billing_site.urls"
WSGI_APPLICATION = "billing_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Connections are kept for DB_CONN_MAX_AGE seconds (0: one per request) and health-checked at the
# start of each request that uses one, so a connection the server dropped (restart, failover,
# pg_terminate_backend) is replaced instead of failing the request (billing_site/postgres_backend:
# the socket is polled first, so a live connection costs no round trip).
# Without DATABASE_URL: with DEBUG on, the quick start's own PostgreSQL (`make run` starts it:
# var/quickstart-pg, 127.0.0.1:5440); outside DEBUG the start stops.
# (Lower case: not a setting, so that DEBUG's error pages never show the URL's password.)
_database_url = os.environ.get("DATABASE_URL", "")
if not _database_url:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be set when DEBUG is off ({POSTGRESQL_URL})."
        )
    _database_url = quickstart_database_url()
DATABASES = {"default": database_config("DATABASE_URL", _database_url)}
# A streaming replica (docs/operations.md, "Replica reads and PgBouncer"): only the reads that may
# be a little stale go there, and only inside billing_site.db_router.replica_reads() (the finance
# dashboard, the past-due list and its exports, `verify_ledger --replica`); every write, every
# API request and every money path use the primary. In tests the alias mirrors the test database.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **database_config("DATABASE_REPLICA_URL", DATABASE_REPLICA_URL),
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["billing_site.db_router.ReplicaRouter"]
# Behind PgBouncer in transaction pooling mode, consecutive transactions of one connection may run
# on different server sessions: nothing may outlive a transaction. Django's server-side cursors
# (`.iterator()`: DECLARE ... WITH HOLD, then FETCH) and psycopg's prepared statements would.
if env_bool("DB_TRANSACTION_POOLING"):
    for _database in DATABASES.values():
        if _database["ENGINE"] == POSTGRESQL_ENGINE:
            _database["DISABLE_SERVER_SIDE_CURSORS"] = True
            _database.setdefault("OPTIONS", {})["prepare_threshold"] = None  # never prepare
# Seconds a client is told to wait (Retry-After) when the database is unavailable and the request
# is answered 503.
DB_UNAVAILABLE_RETRY_AFTER = env_int("DB_UNAVAILABLE_RETRY_AFTER", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The background worker (worker/, docs/worker.md): procrastinate's job queue, in PostgreSQL. Code
# defers a job through Django's own connection (procrastinate's Django connector), so the job is a
# row written in the caller's transaction: committed or rolled back with it. `manage.py worker`
# runs the jobs of WORKER_QUEUES.
WORKER_QUEUES = env_list("WORKER_QUEUES", "billing,webhooks")
# The worker's own connection to the queue (fetching jobs, LISTEN for new ones, heartbeats). LISTEN
# holds a session, which PgBouncer in transaction pooling does not keep: behind it, name the
# PostgreSQL primary itself here. Unset: the worker uses DATABASE_URL; under
# DB_TRANSACTION_POOLING it then does not LISTEN and polls every WORKER_POLL_SECONDS instead. The
# tasks' own queries always use DATABASES (through PgBouncer, like the app servers).
_worker_database_url = os.environ.get("WORKER_DATABASE_URL", "")
WORKER_DATABASE = (
    database_config("WORKER_DATABASE_URL", _worker_database_url) if _worker_database_url else None
)
WORKER_LISTEN_NOTIFY = WORKER_DATABASE is not None or not env_bool("DB_TRANSACTION_POOLING")
# Seconds between two looks for due jobs when no notification came (a retry's time, a missed one).
WORKER_POLL_SECONDS = env_int("WORKER_POLL_SECONDS", 5 if WORKER_LISTEN_NOTIFY else 1) or 1
WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 4) or 1  # jobs at once, one thread each
# A worker writes a heartbeat every WORKER_HEARTBEAT_SECONDS; one silent for WORKER_STALLED_SECONDS
# is dead (killed, its machine lost), and the jobs it was running are retried by the others: at
# their start and every WORKER_STALLED_SWEEP_SECONDS.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10) or 10
WORKER_STALLED_SECONDS = env_int("WORKER_STALLED_SECONDS", 30)
WORKER_STALLED_SWEEP_SECONDS = env_int("WORKER_STALLED_SWEEP_SECONDS", 30) or 30
if WORKER_STALLED_SECONDS < 2 * WORKER_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        f"WORKER_STALLED_SECONDS ({WORKER_STALLED_SECONDS}) must be at least twice "
        f"WORKER_HEARTBEAT_SECONDS ({WORKER_HEARTBEAT_SECONDS}): else a live worker's jobs are "
        "taken for a dead one's and run twice."
    )
# On SIGTERM the worker takes no new job and waits this long for the running ones; then it aborts
# them, and they are retried by the next worker.
WORKER_SHUTDOWN_SECONDS = env_int("WORKER_SHUTDOWN_SECONDS", 20)
# Finished jobs are removed this many days after they finished (worker.cleanup, every night).
WORKER_KEEP_JOBS_DAYS = env_int("WORKER_KEEP_JOBS_DAYS", 7)
# Extra modules of tasks (comma-separated), besides every app's tasks.py (the tests add theirs).
PROCRASTINATE_IMPORT_PATHS = env_list("WORKER_IMPORT_PATHS")

# Webhooks (webhooks/, docs/webhooks.md): each delivery is a job on the `webhooks` queue, tried
# with a timeout, retried after WEBHOOK_RETRY_BASE_SECONDS doubled at each failure (at most
# WEBHOOK_RETRY_MAX_SECONDS, with jitter), WEBHOOK_MAX_ATTEMPTS tries in all (about a day), then
# the subscription is disabled. http:// URLs only in DEBUG, or to loopback with
# WEBHOOK_ALLOW_HTTP_LOOPBACK (the tests' receivers).
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env_int("WEBHOOK_CONNECT_TIMEOUT_SECONDS", 5) or 5
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 15) or 15
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 60)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 12) or 1
WEBHOOK_ALLOW_HTTP_LOOPBACK = env_bool("WEBHOOK_ALLOW_HTTP_LOOPBACK")
# A pending delivery due this long ago with no job waiting or running gets a new job.
WEBHOOK_STUCK_MINUTES = env_int("WEBHOOK_STUCK_MINUTES", 15)

# Counters that every worker and app server must share (API rate limits) live in Redis. Without
# REDIS_URL the quick start counts per process, and says so (check billing.W001); production stops.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "billing"),
            # A Redis that hangs must not hang the requests: the rate limits then fail open.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
elif DEBUG:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured(
        "REDIS_URL must be set when DEBUG is off: rate limits are counted in Redis, shared by "
        "every worker."
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes (and nginx serves from, deploy/): STATIC_ROOT, else ./staticfiles.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGIN_URL = "admin:login"

# The largest request body accepted, in bytes (default 1 MiB): Django refuses a larger one before
# reading it (or, without Content-Length, after reading one byte past it); the APIs answer 413.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# How far in the future a Legend PaymentDate or WriteDownDate may be (the partner's clock may run
# a little ahead of ours); later is refused with a 400 (docs/api.md).
LEGEND_MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)

# Staff login lockout (django-axes, docs/limits.md): per username and client address together.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "billing_site.api.throttles.client_address"
AXES_LOCKOUT_CALLABLE = "billing_site.lockout.lockout_response"

# API rate limits (billing_site/api/throttles.py, docs/limits.md); a limit of 0 turns it off.
API_BURST_LIMIT = env_int("API_BURST_LIMIT", 500)  # per credential or staff user ...
API_BURST_WINDOW = env_int("API_BURST_WINDOW", 30) or 30  # ... per this many seconds
API_HOURLY_LIMIT = env_int("API_HOURLY_LIMIT", 3000)  # per account (Legend: per credential)
API_AUTH_FAILURE_LIMIT = env_int("API_AUTH_FAILURE_LIMIT", 30)  # failed keys per address ...
API_AUTH_FAILURE_WINDOW = env_int("API_AUTH_FAILURE_WINDOW", 300) or 300  # ... per seconds

# DocuSign's sign-in (oauth/, docs/docusign-oauth.md). The JWT's `aud` must be OAUTH_HOST_NAME (a
# host name without a scheme, as DocuSign's account-d.docusign.com); empty: the host and port the
# token request was sent to. OAUTH_API_BASE_URI: userinfo's `base_uri` (empty: this request's
# origin). OAUTH_CLOCK_SKEW: seconds of clock difference allowed on a JWT's iat and exp.
OAUTH_HOST_NAME = os.environ.get("OAUTH_HOST_NAME", "")
OAUTH_API_BASE_URI = os.environ.get("OAUTH_API_BASE_URI", "").rstrip("/")
OAUTH_CLOCK_SKEW = min(max(env_int("OAUTH_CLOCK_SKEW", 60), 0), 300)
OAUTH_TOKEN_RATE_LIMIT = env_int(
    "OAUTH_TOKEN_RATE_LIMIT", 30
)  # per address and integration a minute

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    # Served behind a TLS proxy that sets X-Forwarded-Proto (and strips it from clients): plain
    # HTTP is redirected to HTTPS, and browsers are told to stay on HTTPS (HSTS).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Content Security Policy for the staff pages (django-csp): only this origin's scripts, styles and
# images, inline scripts only with the response's nonce, never framed. The API answers JSON and
# gets no policy; the API docs pages relax it for what Swagger UI and ReDoc need (urls.py).
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/restapi/", "/v2.1/", "/POS/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Proxies whose X-Forwarded-For entry is trusted as the client address (0: none, REMOTE_ADDR).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Billing back office API",
    "DESCRIPTION": "DocuSign-compatible account billing and Legend-compatible billing payments.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # procrastinate says "Adding tasks from blueprint" and "Registering task ... periodic" at every
    # process start (every manage.py command) and "Deferred 1 job" at every defer; the worker logs
    # each job's start and end (manage.py worker).
    "loggers": {
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.jobs": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
    },
}
