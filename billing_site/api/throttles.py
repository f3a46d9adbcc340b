"""API rate limits, counted in the shared cache (Redis) so that they hold across every worker.

Three limits (docs/limits.md), each a fixed window that starts with its first counted request:

- burst: per credential (or staff user), `API_BURST_LIMIT` requests per `API_BURST_WINDOW` s;
- hourly: per account, `API_HOURLY_LIMIT` per hour. On the DocuSign mounts the account is the one
  in the URL (known once the permission check resolved it); Legend's account is only known from
  the body, after the view parsed it, so Legend's hourly limit is counted per credential;
- failed authentication: per client address, `API_AUTH_FAILURE_LIMIT` per
  `API_AUTH_FAILURE_WINDOW` s; past it, every Bearer request from that address is refused, even
  with a good key, until the window ends: a bad key's when its failure would be counted
  (`record_auth_failure`, from contacts.authentication), a good key's with the limits above
  (`ApiRateThrottle`, the address's count read in the same script as the limits are counted) or,
  if the permission check refuses it first, there (`AddressLockoutOnRefusal`).

A request allowed through costs one round trip to Redis: one script for every limit.

Counting is atomic across processes: on Redis, one Lua script increments the counter and sets
its expiry together (DRF's SimpleRateThrottle reads and writes a list, which loses counts under
concurrency). When the cache cannot be reached the limits fail open: the request is served and an
error is logged (at most once a minute per process). The money rules do not depend on the limits;
an outage of the counter store must not stop partners from paying.

A limit of 0 turns that limit off.
"""

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("billing_site.api.throttles")

BURST_CODE = "BURST_APIINVOCATION_LIMIT_EXCEEDED"
HOURLY_CODE = "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
AUTH_FAILURES_CODE = "TOO_MANY_REQUESTS"

# One atomic step, one round trip. First the gate, if there is one (ARGV[1] its limit, 0 for none;
# KEYS[1] its key): a count already at its limit refuses, and nothing is counted ({-1, ttl}).
# Then, for each counter key in turn: INCR and, for a new counter (or one that lost its expiry),
# EXPIRE; stops after the first counter over its limit, so that a request refused by one limit is
# not counted in the next. Returns count and ttl of each counter counted.
_HIT_SCRIPT = """
local gate = tonumber(ARGV[1])
local first = 1
if gate > 0 then
  local gated = tonumber(redis.call('GET', KEYS[1]) or '0')
  if gated >= gate then
    return {-1, redis.call('TTL', KEYS[1])}
  end
  first = 2
end
local out = {}
for i = first, #KEYS do
  local j = i - first + 1
  local window, limit = tonumber(ARGV[2 * j]), tonumber(ARGV[2 * j + 1])
  local count = redis.call('INCR', KEYS[i])
  local ttl = redis.call('TTL', KEYS[i])
  if ttl < 0 then
    redis.call('EXPIRE', KEYS[i], window)
    ttl = window
  end
  table.insert(out, count)
  table.insert(out, ttl)
  if count > limit then
    break
  end
end
return out
"""
_LOG_EVERY = 60.0
_last_logged = 0.0


@dataclass(frozen=True)
class Window:
    count: int
    reset_in: int  # whole seconds until the window ends, at least 1


@dataclass(frozen=True)
class Gate:
    """A window checked before counting: once its count has reached `limit`, the request is
    refused and nothing is counted (the failed authentications of a client address)."""

    key: str
    limit: int


class GateClosed(Exception):
    """`hit_in_turn` refused at its gate; `reset_in`: whole seconds until the gate's window ends."""

    def __init__(self, reset_in: int) -> None:
        super().__init__(reset_in)
        self.reset_in = max(1, reset_in)


class RateLimited(exceptions.Throttled):
    """A 429 with the API code of the limit that refused it (DocuSign's codes where they exist)."""

    def __init__(self, *, error_code: str, message: str, wait: int, limit: int) -> None:
        super().__init__(wait=max(1, wait), detail=message)
        self.error_code = error_code
        self.limit = limit


def client_address(request) -> str:
    """REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost of `NUM_PROXIES` trusted
    proxies (default 0: X-Forwarded-For is ignored). Also django-axes' client address."""
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",")]
    return entries[-min(proxies, len(entries))] or remote


def _log_unavailable(error: Exception) -> None:
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= _LOG_EVERY:
        _last_logged = now
        logger.error("API rate limits not enforced (failing open): cache unavailable: %r", error)


def _client(cache: RedisCache, *, write: bool):
    """The cache's Redis client, made once per process and cache (redis-py's client is a thin
    object over the cache's connection pool; Django makes a new one on every call)."""
    clients = cache.__dict__.setdefault("_billing_clients", {})
    if write not in clients:
        clients[write] = cache._cache.get_client(write=write)
    return clients[write]


def _hit_redis(
    cache: RedisCache, counters: list[tuple[str, int, int]], gate: Gate | None
) -> list[Window]:
    client = _client(cache, write=True)
    script = cache.__dict__.get("_billing_hit_script")
    if script is None:  # EVALSHA, the script sent once
        script = cache.__dict__["_billing_hit_script"] = client.register_script(_HIT_SCRIPT)
    keys = [cache.make_and_validate_key(key) for key, _window, _limit in counters]
    arguments = [value for _key, window, limit in counters for value in (window, limit)]
    if gate is not None:
        keys.insert(0, cache.make_and_validate_key(gate.key))
    flat = script(keys=keys, args=[gate.limit if gate else 0, *arguments], client=client)
    if gate is not None and flat and int(flat[0]) == -1:
        raise GateClosed(int(flat[1]))
    pairs = zip(flat[::2], flat[1::2], strict=True)
    return [Window(int(count), max(1, int(ttl))) for count, ttl in pairs]


def _hit_local(cache, key: str, window: int) -> Window:
    """Any other cache (LocMem in the quick start: per process, check billing.W001)."""
    now = time.time()
    cache.add(f"{key}:reset", now + window, window)
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    reset_at = cache.get(f"{key}:reset") or now + window
    return Window(count, max(1, math.ceil(reset_at - now)))


def _check_gate_local(cache, gate: Gate) -> None:
    if (cache.get(gate.key) or 0) >= gate.limit:
        reset_at = cache.get(f"{gate.key}:reset") or time.time() + 1
        raise GateClosed(math.ceil(reset_at - time.time()))


def hit_in_turn(
    counters: list[tuple[str, int, int]], gate: Gate | None = None
) -> list[Window] | None:
    """Count one request in each window `(key, window seconds, limit)` in turn, stopping after the
    first over its limit: the windows counted. With a `gate` that has reached its limit, raises
    `GateClosed` and counts nothing. One round trip to Redis. None when the cache is unavailable
    (fail open)."""
    cache = caches["default"]
    try:
        if isinstance(cache, RedisCache):
            return _hit_redis(cache, counters, gate)
        if gate is not None:
            _check_gate_local(cache, gate)
        windows = []
        for key, window_seconds, limit in counters:
            windows.append(_hit_local(cache, key, window_seconds))
            if windows[-1].count > limit:
                break
        return windows
    except GateClosed:
        raise
    except Exception as error:  # redis.RedisError, OSError...: never a 500 because of a counter
        _log_unavailable(error)
        return None


def hit(key: str, window: int) -> Window | None:
    """Count one request in the window `key`; None when the cache is unavailable (fail open)."""
    windows = hit_in_turn([(key, window, 2**62)])
    return None if windows is None else windows[0]


def peek(key: str) -> Window | None:
    """The window `key` as it stands, without counting; None if it is empty or unavailable."""
    cache = caches["default"]
    try:
        if isinstance(cache, RedisCache):
            full_key = cache.make_and_validate_key(key)
            client = _client(cache, write=False)
            count, ttl = client.pipeline(transaction=False).get(full_key).ttl(full_key).execute()
            return None if count is None else Window(int(count), max(1, int(ttl)))
        count = cache.get(key)
        if count is None:
            return None
        reset_at = cache.get(f"{key}:reset") or time.time() + 1
        return Window(int(count), max(1, math.ceil(reset_at - time.time())))
    except Exception as error:
        _log_unavailable(error)
        return None


def peek_count(key: str) -> int:
    """The count of the window `key` (0 if empty or unavailable): one GET, for the check that
    only needs the window's reset once the count is over its limit."""
    cache = caches["default"]
    try:
        if isinstance(cache, RedisCache):
            count = _client(cache, write=False).get(cache.make_and_validate_key(key))
        else:
            count = cache.get(key)
        return 0 if count is None else int(count)
    except Exception as error:
        _log_unavailable(error)
        return 0


def _set_headers(request, limit: int, window: Window) -> None:
    """DocuSign's X-RateLimit-* headers, added to the response by RateLimitHeadersMiddleware."""
    request._request.rate_limit_headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, limit - window.count)),
        "X-RateLimit-Reset": str(int(time.time()) + window.reset_in),
    }


def caller_key(request) -> str | None:
    credential = getattr(request.user, "credential", None)
    if credential is not None:
        return f"credential:{credential.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


class ApiRateThrottle(BaseThrottle):
    """The burst limit per caller, then the hourly limit per account (DocuSign) or per caller
    (Legend). Runs after authentication and the permission check; a refusal raises
    `RateLimited` before the view's handler, so nothing is written and no Idempotency-Key is
    used. A request refused by the burst limit is not counted in the hourly one.

    A partner key's request from an address that used up its failed authentications is refused
    here, before anything is counted (`auth_failures_gate`), in the same round trip to Redis."""

    def allow_request(self, request, view) -> bool:
        caller = caller_key(request)
        if caller is None:
            return True
        account = getattr(view, "account", None)
        hourly_scope = f"account:{account.pk}" if account is not None else caller
        limits = [
            (BURST_CODE, f"burst:{caller}", settings.API_BURST_LIMIT, settings.API_BURST_WINDOW),
            (HOURLY_CODE, f"hourly:{hourly_scope}", settings.API_HOURLY_LIMIT, 3600),
        ]
        limits = [limit for limit in limits if limit[2] > 0]
        gate = auth_failures_gate(request) if is_partner_request(request) else None
        if not limits and gate is None:
            return True
        try:
            windows = hit_in_turn(
                [(key, seconds, limit) for _code, key, limit, seconds in limits], gate=gate
            )
        except GateClosed as closed:
            raise auth_failures_refusal(closed.reset_in) from None
        if not windows:
            return True
        # The windows counted: every limit's, or those up to the one that refuses.
        for (code, _key, limit, window_seconds), window in zip(limits, windows, strict=False):
            _set_headers(request, limit, window)  # the last (hourly) one is what is shown
            if window.count > limit:
                raise RateLimited(
                    error_code=code,
                    message=rate_limit_message(limit, window_seconds),
                    wait=window.reset_in,
                    limit=limit,
                )
        return True


def is_partner_request(request) -> bool:
    """Whether a partner key (`Authorization: Bearer`) authenticated the request."""
    return getattr(request.user, "credential", None) is not None


def rate_limit_message(limit: int, window_seconds: int) -> str:
    period = "hour" if window_seconds == 3600 else f"{window_seconds} seconds"
    return f"API rate limit exceeded: {limit} requests per {period}."


def auth_failures_message() -> str:
    return (
        "Too many failed authentications from this address "
        f"({settings.API_AUTH_FAILURE_LIMIT} per {settings.API_AUTH_FAILURE_WINDOW} seconds)."
    )


def auth_failures_gate(request) -> Gate | None:
    """The failed authentications of the request's client address, as a gate; None when that
    limit is off."""
    limit = settings.API_AUTH_FAILURE_LIMIT
    return Gate(f"authfail:{client_address(request)}", limit) if limit > 0 else None


def auth_failures_refusal(reset_in: int) -> RateLimited:
    return RateLimited(
        error_code=AUTH_FAILURES_CODE,
        message=auth_failures_message(),
        wait=reset_in,
        limit=settings.API_AUTH_FAILURE_LIMIT,
    )


def check_auth_failures(request) -> None:
    """Refuse with 429 when the client address used up its failed authentications."""
    gate = auth_failures_gate(request)
    if gate is None or peek_count(gate.key) < gate.limit:  # the usual case: one GET
        return
    window = peek(gate.key)
    if window is not None and window.count >= gate.limit:
        raise auth_failures_refusal(window.reset_in)


def record_auth_failure(request) -> None:
    """Count a failed authentication of the client address, in one round trip; an address that
    had already used up its failures is refused with 429 instead, and nothing is counted."""
    gate = auth_failures_gate(request)
    if gate is None:
        return
    try:
        hit_in_turn([(gate.key, settings.API_AUTH_FAILURE_WINDOW, 2**62)], gate=gate)
    except GateClosed as closed:
        raise auth_failures_refusal(closed.reset_in) from None


class AddressLockoutOnRefusal:
    """API view mixin: a partner key's request refused by the permission check, from an address
    that used up its failed authentications, is answered 429 as every other request of that
    address is (a good key's 403 would otherwise tell it from a bad key's 429). Only the refusal
    path asks Redis (one GET); an allowed request is checked by `ApiRateThrottle`."""

    def permission_denied(self, request, message=None, code=None):
        if is_partner_request(request):
            check_auth_failures(request)
        super().permission_denied(request, message=message, code=code)


class RateLimitHeadersMiddleware:
    """Adds the X-RateLimit-* headers that an API throttle left on the request."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        for name, value in getattr(request, "rate_limit_headers", {}).items():
            response.headers.setdefault(name, value)
        return response
