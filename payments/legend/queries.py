"""`GET /POS/Billings`' query string read without building BillingsQuerySerializer, for the
queries it would accept as they are; anything else is left to it, for its own 400."""

import uuid

from rest_framework import serializers

_TRUE = serializers.BooleanField.TRUE_VALUES
_FALSE = serializers.BooleanField.FALSE_VALUES


def billings_query(query_params) -> dict | None:
    """BillingsQuerySerializer's validated data for a well-formed query: `ContactId` a GUID as
    its GuidField reads it (`uuid.UUID(hex=...)`), `OutstandingOnly` absent, empty (its default,
    False) or one of its BooleanField's words in any case. None for any other query: the
    serializer then judges it (and refuses it). The last of repeated parameters counts, as it
    does for the serializer."""
    contact_id = query_params.get("ContactId")
    if contact_id is None:
        return None
    try:
        guid = uuid.UUID(hex=contact_id)
    except ValueError:
        return None
    outstanding = query_params.get("OutstandingOnly")
    if outstanding is None or outstanding == "":
        outstanding_only = False
    elif outstanding.lower() in _TRUE:
        outstanding_only = True
    elif outstanding.lower() in _FALSE:
        outstanding_only = False
    else:
        return None
    return {"ContactId": guid, "OutstandingOnly": outstanding_only}
