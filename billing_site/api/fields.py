from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_site.money import format_amount


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
