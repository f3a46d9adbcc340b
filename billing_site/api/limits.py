"""How large a request body the APIs take, checked before anything else reads it.

`settings.API_MAX_BODY_BYTES` (also Django's DATA_UPLOAD_MAX_MEMORY_SIZE, which bounds the read
itself): a body declared larger is refused with 413 before a byte of it is read, and before any
database query. A body without Content-Length (`Transfer-Encoding: chunked`) is refused with 411:
under WSGI Django would read it as empty, so the request would otherwise fail as if nothing had
been sent; nothing of it is ever read.
"""

from django.conf import settings

from .errors import LengthRequired, PayloadTooLarge


def declared_length(request) -> int | None:
    """The body's Content-Length; None when a body comes without one (chunked)."""
    meta = request.META
    text = meta.get("CONTENT_LENGTH") or ""
    if text.strip().isdigit():
        return int(text)
    if meta.get("HTTP_TRANSFER_ENCODING", "").strip():
        return None
    return 0


class BodyLimits:
    """Mixin for the APIs' viewsets: refuse an oversized or unbounded body first."""

    def initial(self, request, *args, **kwargs):
        length = declared_length(request)
        if length is None:
            raise LengthRequired()
        if length > settings.API_MAX_BODY_BYTES:
            raise PayloadTooLarge()
        super().initial(request, *args, **kwargs)
