"""OpenAPI: the error responses every API operation can answer, each API in its own error shape.

`CommonErrorResponses` is mixed into an API's AutoSchema, which says what its error body is
(`error_body()`); every status below that the operation's own `extend_schema` did not describe is
added, with a `Retry-After` header on 429 and 503.
"""

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
DESCRIPTIONS = {
    400: "Malformed body, parameter or Idempotency-Key; nothing was written.",
    401: "No, wrong or revoked credentials.",
    403: "The credentials do not hold the permission this operation needs here.",
    404: "Not found.",
    406: "The Accept header names no media type this operation answers.",
    409: "The Idempotency-Key was already used for another request.",
    411: "A body without Content-Length (chunked) is refused unread.",
    413: "The body is over the limit (API_MAX_BODY_BYTES, 1 MiB by default); refused unread.",
    415: "The body is not JSON (Content-Type).",
    429: "Too many requests: retry after Retry-After seconds.",
    503: "The service is unavailable (e.g. its database): retry after Retry-After seconds.",
}
EVERY_OPERATION = (401, 403, 406, 411, 413, 429, 503)
WITH_A_BODY = (400, 409, 415)


class CommonErrorResponses:
    """An AutoSchema mixin: the common error responses, in `error_body()`'s shape."""

    extra_error_statuses: tuple[int, ...] = ()

    def error_body(self):
        raise NotImplementedError

    def error_statuses(self) -> set[int]:
        statuses = {*EVERY_OPERATION, *self.extra_error_statuses}
        if self.method in {"POST", "PUT", "PATCH"}:
            statuses.update(WITH_A_BODY)
        if self._get_filter_parameters() or self._get_pagination_parameters():
            statuses.add(400)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in sorted(self.error_statuses()):
            code = str(status)
            if "content" not in responses.get(code, {}):  # missing, or described without a body
                description = responses.get(code, {}).get("description") or DESCRIPTIONS[status]
                responses[code] = {
                    **self._get_response_for_code(self.error_body(), code),
                    "description": description,
                }
            if status in {429, 503}:
                responses[code]["headers"] = {**responses[code].get("headers", {}), **RETRY_AFTER}
        return dict(sorted(responses.items()))
