"""Request bodies and query strings validated by a serializer built once per class.

DRF builds a serializer's fields anew for every instance: a deep copy of every declared field, and
of its validators, bound to that instance (a fifth of a Legend payment's app CPU, by py-spy). A
request serializer that keeps no state of its own (no `instance`, no `context`, never `partial`)
validates every request alike with the fields of one instance: `validated(cls, data)` runs them
(`run_validation`, the call `is_valid` makes). Only data it refuses goes through a serializer made
the usual way, so that the error raised is exactly `is_valid(raise_exception=True)`'s.
"""

from functools import cache

from rest_framework.exceptions import ValidationError
from rest_framework.serializers import Serializer


@cache
def _built_once(serializer_class: type[Serializer]) -> Serializer:
    return serializer_class()


def validated(serializer_class: type[Serializer], data) -> dict:
    """`serializer_class(data=data)`'s `validated_data`, or its `is_valid(raise_exception=True)`
    error."""
    try:
        return _built_once(serializer_class).run_validation(data)
    except ValidationError:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
