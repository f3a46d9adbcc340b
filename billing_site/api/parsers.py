import codecs
import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class DecimalJSONParser(JSONParser):
    """JSON whose numbers with a fraction or exponent become `Decimal`, never `float`.

    An amount sent as the JSON number 0.1 reaches the money rules as Decimal("0.1"), exactly as
    written, so "more than two places" is judged on what the client sent.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        if encoding.lower().replace("-", "") == "utf8":
            encoding = "utf-8-sig"  # .NET clients may start the body with a byte-order mark
        try:
            text = codecs.getreader(encoding)(stream)
            return json.load(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"The request body is not valid JSON: {error}") from None


class DecimalTextJSONParser(DecimalJSONParser):
    """The same, for `Content-Type: text/json`, which ASP.NET clients (Legend's) may send."""

    media_type = "text/json"
