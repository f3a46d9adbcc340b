"""Helpers for the DocuSign-compatible API tests: both mounts, their envelopes and error shapes.

`restapi` is `/restapi/v2.1/accounts/{accountId}/...` (DocuSign's bare models and
`{"errorCode", "message"}`); `seed` is `/v2.1/accounts/{accountId}/...` (`{"success", "data"}` and
`{"success": false, "error": {"code", "message", "details": {"errorCode", ...}}}`).
"""

import json

import pytest

MOUNTS = ("restapi", "seed")
PREFIXES = {"restapi": "/restapi/v2.1/accounts", "seed": "/v2.1/accounts"}
SEED_CODES = {
    400: "VALIDATION_ERROR",
    401: "AUTHENTICATION_FAILED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    415: "UNSUPPORTED_MEDIA_TYPE",
}

both_mounts = pytest.mark.parametrize("mount", MOUNTS)


def url(mount: str, account, path: str = "") -> str:
    """The URL of `path` under `account` (an Account: its number; or the literal reference)."""
    reference = account if isinstance(account, str) else account.number
    return f"{PREFIXES[mount]}/{reference}/{path}"


def bearer(credential) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {credential.secret}"}


def get(client, address: str, credential=None, params: dict | None = None, **extra):
    return client.get(address, params, **(bearer(credential) if credential else {}), **extra)


def post(client, address: str, body, credential=None, **extra):
    """POST `body`: a dict or list is sent as JSON, a str as the raw body."""
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        address,
        raw,
        content_type="application/json",
        **(bearer(credential) if credential else {}),
        **extra,
    )


def data(mount: str, response, status: int = 200):
    """The model in a successful response, unwrapped from the seed envelope."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    if mount == "seed":
        assert set(body) == {"success", "data"}, body
        assert body["success"] is True
        return body["data"]
    return body


def error(mount: str, response, status: int, code: str) -> tuple[str, dict]:
    """Check the error shape, status and code; return its message and (seed mount) details.

    The details returned leave out `errorCode`, already checked; on /restapi they are `{}`.
    """
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    if mount == "restapi":
        assert set(body) == {"errorCode", "message"}, body
        assert body["errorCode"] == code
        assert isinstance(body["message"], str)
        assert body["message"]
        return body["message"], {}
    assert set(body) == {"success", "error"}, body
    assert body["success"] is False
    problem = body["error"]
    assert set(problem) == {"code", "message", "details"}, problem
    assert problem["code"] == SEED_CODES[status]
    details = dict(problem["details"])
    assert details.pop("errorCode") == code
    assert isinstance(problem["message"], str)
    assert problem["message"]
    return problem["message"], details
