import django_filters
from django import forms

from .dates import DateRange, parse_date_range


class DateRangeForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        cleaned["date_range"] = parse_date_range(cleaned.get("from_date"), cleaned.get("to_date"))
        return cleaned


class DateRangeFilterSet(django_filters.FilterSet):
    """`from_date` / `to_date` (see billing_site.api.dates) on `date_field` of the queryset.

    A malformed date, or `from_date` after `to_date`, makes the filter set invalid, which
    DjangoFilterBackend turns into a 400.
    """

    from_date = django_filters.CharFilter(
        method="in_range",
        help_text="Start (YYYY-MM-DD or ISO datetime, UTC); default to_date - 365 days.",
    )
    to_date = django_filters.CharFilter(
        method="in_range",
        help_text="End, inclusive (YYYY-MM-DD or ISO datetime, UTC); default now.",
    )

    date_field = "created_at"
    date_only = False  # True when date_field is a DateField

    class Meta:
        form = DateRangeForm

    def in_range(self, queryset, name, value):
        return queryset  # both bounds are applied together in filter_queryset

    def filter_queryset(self, queryset):
        date_range = self.form.cleaned_data["date_range"]
        if self.date_only:
            return queryset.filter(**date_range.date_lookups(self.date_field))
        return queryset.filter(**date_range.datetime_lookups(self.date_field))


def valid_date_range(query_params) -> DateRange | None:
    """The range that `DateRangeFilterSet` reads from `from_date` / `to_date` (each stripped, as
    its form's CharField does), without building the filter set and its form: a list that reads
    its rows with one statement takes the bounds from here. None when the filter set would refuse
    the request (a malformed date, a NUL byte, `from_date` after `to_date`): the caller then lets
    the filter set answer, with its own error."""
    texts = [query_params.get("from_date"), query_params.get("to_date")]
    if any(text is not None and "\x00" in text for text in texts):
        return None
    try:
        return parse_date_range(*((text or "").strip() for text in texts))
    except forms.ValidationError:
        return None
