from collections.abc import Callable
from dataclasses import dataclass, replace
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
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise self.invalid_cursor() from None
        if cursor is None or cursor.position is None:
            return cursor
        position = cursor.position
        if not (position.isascii() and position.isdigit() and len(position) <= MAX_POSITION_DIGITS):
            raise self.invalid_cursor()
        if int(position) > MAX_POSITION:
            raise self.invalid_cursor()
        return cursor._replace(position=str(int(position)))

    def invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})

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


@dataclass(frozen=True)
class KeysetRows:
    """What `CursorPagination.paginate_queryset` asks of a queryset ordered by "pk" (`order_by`,
    `filter` past the cursor's position, one slice), answered by `fetch` instead of the ORM.

    DRF's own paging code (cursor, offset, direction, links) runs unchanged over it; only the
    page's statement differs: `fetch(descending, after, before, offset, limit)` returns the rows
    (dicts with "pk") in that order, ids above `after` or below `before` (None: no bound), the
    first `offset` left out. A read that compiled a queryset per request (DocuSign's payment
    list) reads its page with one statement written once. Anything else DRF might ask fails.
    """

    fetch: Callable[..., list[dict]]
    descending: bool = False
    after: int | None = None
    before: int | None = None

    def order_by(self, *ordering: str) -> "KeysetRows":
        if ordering not in (("pk",), ("-pk",)):
            raise TypeError(f"KeysetRows is ordered by pk only, not {ordering!r}")
        return replace(self, descending=ordering == ("-pk",))

    def filter(self, **lookups) -> "KeysetRows":
        ((lookup, position),) = lookups.items()
        if lookup == "pk__gt":
            return replace(self, after=int(position))
        if lookup == "pk__lt":
            return replace(self, before=int(position))
        raise TypeError(f"KeysetRows filters on pk__gt or pk__lt only, not {lookup!r}")

    def __getitem__(self, page: slice) -> list[dict]:
        if not isinstance(page, slice) or page.step is not None:
            raise TypeError("KeysetRows reads one slice")
        start = page.start or 0
        return self.fetch(
            descending=self.descending,
            after=self.after,
            before=self.before,
            offset=start,
            limit=page.stop - start,
        )


def uri_cursor_pagination(results_key: str, page_size: int = 100) -> type[UriCursorPagination]:
    """A pagination class whose list is called `results_key`."""
    return type(
        f"{results_key[0].upper()}{results_key[1:]}Pagination",
        (UriCursorPagination,),
        {"results_key": results_key, "page_size": page_size},
    )
