from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_site.money import InvalidAmount, format_amount, parse_decimal


@extend_schema_field({"type": "string", "example": "125.00"})
class AmountString(serializers.Field):
    """An amount on the wire as a string with two places ("125.00"), DocuSign's typing."""

    def to_representation(self, value) -> str:
        return format_amount(value)


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class BooleanString(serializers.Field):
    """A boolean on the wire as "true" / "false", DocuSign's typing."""

    def to_representation(self, value) -> str:
        return "true" if value else "false"


class DecimalInput(serializers.Field):
    """A number sent as a JSON number or a numeric string, kept exact as `Decimal`.

    Only whether it is a number is checked here; whether it is a valid amount (positive, two
    places, within what is owed) is the money service's call, refused in the API's own terms.
    """

    default_error_messages = {"invalid": "A number is required."}

    def to_internal_value(self, data) -> Decimal:
        try:
            return parse_decimal(data)
        except InvalidAmount:
            self.fail("invalid")
