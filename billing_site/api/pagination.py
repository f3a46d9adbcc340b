from urllib.parse import urlsplit, urlunsplit

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.response import Response


def relative_uri(url: str | None) -> str | None:
    """`https://host/a/b?c=d` -> `/a/b?c=d` (DocuSign's nextUri/previousUri are relative)."""
    if url is None:
        return None
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path, parts.query, ""))


MAX_POSITION = 2**63 - 1  # a bigint primary key
MAX_POSITION_DIGITS = len(str(MAX_POSITION))


class UriCursorPagination(CursorPagination):
    """Chunks with relative `nextUri` / `previousUri` (null at either end).

    A cursor on the primary key, not an offset: a client that follows `nextUri` sees every row
    exactly once even while new rows are being added. `results_key` names the list.
    """

    ordering = "pk"
    page_size = 100
    page_size_query_param = "count"
    max_page_size = 1000
    results_key = "results"

    def decode_cursor(self, request) -> Cursor | None:
        """The cursor, checked: DRF checks the offset and direction but passes the position
        (`p=`) straight to the database, where `p=abc` or a NUL byte was a 500. The position is a
        primary key, so anything but a non-negative integer within PostgreSQL's bigint is a
        malformed parameter, 400 in both APIs (DRF itself answers a bad cursor with 404)."""
        invalid = ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid from None
        if cursor is None or cursor.position is None:
            return cursor
        position = cursor.position
        if not (position.isascii() and position.isdigit() and len(position) <= MAX_POSITION_DIGITS):
            raise invalid
        if int(position) > MAX_POSITION:
            raise invalid
        return cursor._replace(position=str(int(position)))

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                self.results_key: data,
                "nextUri": relative_uri(self.get_next_link()),
                "previousUri": relative_uri(self.get_previous_link()),
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        nullable_uri = {"type": "string", "nullable": True, "example": None}
        return {
            "type": "object",
            "required": [self.results_key, "nextUri", "previousUri"],
            "properties": {
                self.results_key: schema,
                "nextUri": nullable_uri,
                "previousUri": nullable_uri,
            },
        }


def uri_cursor_pagination(results_key: str, page_size: int = 100) -> type[UriCursorPagination]:
    """A pagination class whose list is called `results_key`."""
    return type(
        f"{results_key[0].upper()}{results_key[1:]}Pagination",
        (UriCursorPagination,),
        {"results_key": results_key, "page_size": page_size},
    )
