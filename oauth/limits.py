"""Rate limits of `POST /oauth/token`: per client address and per integration, each
`OAUTH_TOKEN_RATE_LIMIT` requests a minute (0: off), counted in the shared cache as the API's
limits are (billing_site.api.throttles: one round trip, failing open when Redis is down).

The integration is the one the request names (the JWT's `iss`, read before its signature is
checked, or the client id): counting before verifying is what keeps a flood of forged assertions
from costing a signature check each; a forger can spend an integration's allowance, never use it.
"""

import math

import jwt
from django.conf import settings

from billing_site.api.throttles import hit_in_turn

from .errors import OAuthError

WINDOW = 60


class TooManyRequests(OAuthError):
    status = 429

    def __init__(self, reset_in: int, what: str = "Too many token requests.") -> None:
        super().__init__("too_many_requests", f"{what} Try again in {reset_in} seconds.")
        self.reset_in = reset_in

    def response(self):
        response = super().response()
        response["Retry-After"] = str(self.reset_in)
        return response


def unverified_issuer(assertion: str) -> str:
    try:
        issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
    except (jwt.PyJWTError, AttributeError):
        return ""
    return issuer.strip().lower()[:64] if isinstance(issuer, str) else ""


def check_token_request(address: str, integration_key: str) -> None:
    limit = settings.OAUTH_TOKEN_RATE_LIMIT
    if limit <= 0:
        return
    counters = [(f"oauth-token:address:{address}", WINDOW, limit)]
    if integration_key:
        counters.append((f"oauth-token:integration:{integration_key}", WINDOW, limit))
    windows = hit_in_turn(counters)
    for window in windows or ():
        if window.count > limit:
            raise TooManyRequests(max(1, math.ceil(window.reset_in)))
