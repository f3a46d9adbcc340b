import simplejson
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.utils import encoders


class EnvelopeJSONRenderer(JSONRenderer):
    """`{"success": true, "data": ...}` around successful responses (the seed's envelope).

    Error responses are rendered as their exception handler built them, already enveloped.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code < 400:
            data = {"success": True, "data": data}
        return super().render(data, accepted_media_type, renderer_context)


class PDFRenderer(BaseRenderer):
    """Lets `Accept: application/pdf` be negotiated; the view returns the PDF bytes itself."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ExactNumberJSONRenderer(JSONRenderer):
    """JSON whose `Decimal`s are written as numbers with their exact digits (`230.00`, never a
    float's `229.99999999999997` or a lost cent on large balances): Legend's amounts are JSON
    numbers, and money stays Decimal end to end."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return dumps_exact(data).encode()


def dumps_exact(data) -> str:
    return simplejson.dumps(
        data,
        use_decimal=True,
        default=encoders.JSONEncoder().default,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def loads_exact(text: str):
    return simplejson.loads(text, use_decimal=True)
