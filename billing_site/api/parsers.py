"""JSON bodies for both APIs: exact decimals, and bounds on what a body may make the server do.

A body is at most `settings.API_MAX_BODY_BYTES` (Django refuses a larger one before reading it,
see `billing_site.api.errors`), nested at most `MAX_DEPTH` levels, and its strings are text that
can be stored (no lone UTF-16 surrogates such as `"\\ud800"`, which PostgreSQL cannot encode).
Anything else is a `ParseError`: a 400 in the API's own shape, never a 500.
"""

import codecs
import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32  # the deepest body either API takes is 3 levels (an object, a list, its lines)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _check_shape(document) -> None:
    """Refuse a document nested deeper than MAX_DEPTH or holding unstorable text. Iterative, so
    that it cannot itself run out of stack."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ParseError(
                    "The request body is not valid JSON: a string holds a lone UTF-16 surrogate."
                ) from None
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise ParseError(f"The request body is nested too deeply (at most {MAX_DEPTH} levels).")
        children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children)


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
            document = json.load(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except RecursionError:  # `[[[[...]]]]` deeper than the interpreter's stack
            raise ParseError(
                f"The request body is nested too deeply (at most {MAX_DEPTH} levels)."
            ) from None
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"The request body is not valid JSON: {error}") from None
        _check_shape(document)
        return document


class DecimalTextJSONParser(DecimalJSONParser):
    """The same, for `Content-Type: text/json`, which ASP.NET clients (Legend's) may send."""

    media_type = "text/json"
