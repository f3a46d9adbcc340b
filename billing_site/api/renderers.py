from rest_framework.renderers import BaseRenderer, JSONRenderer


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
