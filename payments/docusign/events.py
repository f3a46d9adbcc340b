"""`GET .../accounts/{accountId}/billing_events`: an account's events (events.models), so that a
partner that missed webhooks can catch up. The payment list's conventions: `from_date` /
`to_date` on when each happened, chunks in id order with `nextUri` / `previousUri` (a cursor on
the id: a client that follows `nextUri` sees every event once, even while new ones come)."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from billing_site.api.filters import DateRangeFilterSet
from billing_site.api.pagination import uri_cursor_pagination
from events.models import Event, EventType
from events.recording import when

from .schema import EVENT_EXAMPLES
from .views import AccountBillingViewSet


class EventDateRange(DateRangeFilterSet):
    date_field = "occurred_at"


class BillingEventSerializer(serializers.Serializer):
    eventId = serializers.UUIDField(source="event_id")
    type = serializers.ChoiceField(choices=EventType.choices)
    occurredAt = serializers.SerializerMethodField()
    data = serializers.JSONField(
        help_text="The objects it names, in the APIs' terms (paymentId, invoiceId, billingId, "
        "contactId, ...), amounts as strings."
    )

    def get_occurredAt(self, event) -> str:
        return when(event.occurred_at)


class BillingEventViewSet(AccountBillingViewSet):
    filter_backends = [DjangoFilterBackend]
    filterset_class = EventDateRange
    pagination_class = uri_cursor_pagination("billingEvents")
    serializer_class = BillingEventSerializer
    operation_ids = {"list": "listEvents"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no account
            return Event.objects.none()
        return Event.objects.filter(account=self.account).only(
            "id", "event_id", "type", "occurred_at", "data"
        )

    @extend_schema(
        summary="The account's events in a date range (to catch up after missed webhooks)",
        responses=OpenApiResponse(
            BillingEventSerializer,
            description="A chunk of the account's events in the range, in the order they were "
            "recorded; `nextUri` / `previousUri` are null at either end.",
        ),
        examples=EVENT_EXAMPLES,
    )
    def list(self, request, account_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
