"""Legend's request and response models: PascalCase, amounts as JSON numbers, dates ISO 8601 with
an offset (.NET's seven fractional digits are accepted)."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from billing_site.api.fields import DecimalInput

from ..lines import AUTHORIZATION_CODE_MAX_LENGTH


@extend_schema_field({"type": "string", "format": "date-time"})
class OffsetDateTimeField(serializers.DateTimeField):
    """Dates out as ISO 8601 with an explicit offset, `2025-11-02T17:38:19.804365+00:00`."""

    def to_representation(self, value):
        if value is None:
            return None
        return value.astimezone(datetime.UTC).isoformat()


@extend_schema_field({"type": "string", "format": "date-time"})
class OffsetDateTimeInput(serializers.DateTimeField):
    """A date in: ISO 8601 with an explicit offset (`+02:00` or `Z`), not later than now plus
    `LEGEND_MAX_CLOCK_SKEW`. A date without an offset names no instant, and a payment or write-down
    cannot have happened in the future: both are malformed requests, never guessed at."""

    default_error_messages = {
        "naive": "Datetime must have an offset, e.g. +00:00 or Z.",
        "future": "Datetime must not be more than {skew} seconds in the future.",
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        skew = settings.LEGEND_MAX_CLOCK_SKEW
        if moment > timezone.now() + skew:
            self.fail("future", skew=int(skew.total_seconds()))
        return moment


@extend_schema_field({"type": "string", "format": "uuid"})
class GuidField(serializers.UUIDField):
    """A GUID as a JSON string only. DRF's `UUIDField` takes an integer too (`42`, even `true`,
    as `UUID(int=...)`), which would answer a malformed request as an unknown contact."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


@extend_schema_field({"type": "number", "format": "decimal", "example": 2.0})
class AmountNumberField(DecimalInput):
    """An amount: a JSON number (a numeric string is accepted too). A bad amount refuses only its
    own line, in the service; a value that is not a number at all is a malformed request."""

    def to_representation(self, value) -> Decimal | None:
        return value


class BillingPaymentLineSerializer(serializers.Serializer):
    BillingId = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    Amount = AmountNumberField()
    ThirdPartyReference = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=200, default=""
    )
    Notes = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=2000, default=""
    )
    AuthorizationCode = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=AUTHORIZATION_CODE_MAX_LENGTH,
        default="",
    )


class BillingPaymentsRequestSerializer(serializers.Serializer):
    ContactId = GuidField()
    PaymentDate = OffsetDateTimeInput()
    TenderTypeId = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    BillingPayments = BillingPaymentLineSerializer(many=True, allow_empty=True)


class BillingPaymentResultSerializer(serializers.Serializer):
    BillingId = serializers.IntegerField()
    Balance = AmountNumberField()
    ProcessDate = OffsetDateTimeField(allow_null=True)
    PaymentDate = OffsetDateTimeField()
    ErrorMessage = serializers.CharField(allow_null=True)


class BillingPaymentsResponseSerializer(serializers.Serializer):
    ContactId = serializers.UUIDField(allow_null=True)
    Success = serializers.BooleanField()
    ErrorMessage = serializers.CharField(allow_null=True)
    BillingPayments = BillingPaymentResultSerializer(many=True)


class BillingWriteDownLineSerializer(serializers.Serializer):
    BillingId = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    Amount = AmountNumberField()
    GLAccountId = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31 - 1
    )


class BillingWriteDownsRequestSerializer(serializers.Serializer):
    ContactId = GuidField()
    WriteDownDate = OffsetDateTimeInput()
    Notes = serializers.CharField(max_length=2000, help_text="Why: required.")
    BillingWriteDowns = BillingWriteDownLineSerializer(many=True, allow_empty=True)


class BillingWriteDownResultSerializer(serializers.Serializer):
    BillingId = serializers.IntegerField()
    Balance = AmountNumberField()
    ProcessDate = OffsetDateTimeField(allow_null=True)
    WriteDownDate = OffsetDateTimeField()
    ErrorMessage = serializers.CharField(allow_null=True)


class BillingWriteDownsResponseSerializer(serializers.Serializer):
    ContactId = serializers.UUIDField(allow_null=True)
    Success = serializers.BooleanField()
    ErrorMessage = serializers.CharField(allow_null=True)
    BillingWriteDowns = BillingWriteDownResultSerializer(many=True)


class BillingsQuerySerializer(serializers.Serializer):
    ContactId = GuidField()
    OutstandingOnly = serializers.BooleanField(required=False, default=False)


class BillingSerializer(serializers.Serializer):
    """A contact's billing item, so a till can see what to pay (ours)."""

    BillingId = serializers.IntegerField(source="pk")
    Description = serializers.CharField(source="description")
    DueDate = serializers.DateField(source="due_date")
    TotalAmount = AmountNumberField(source="total_amount")
    Balance = AmountNumberField(source="balance")


# `many=False`: the `list` action answers this one envelope object, not an array of them.
@extend_schema_serializer(many=False)
class BillingsResponseSerializer(serializers.Serializer):
    ContactId = serializers.UUIDField(allow_null=True)
    Success = serializers.BooleanField()
    ErrorMessage = serializers.CharField(allow_null=True)
    Billings = BillingSerializer(many=True)
