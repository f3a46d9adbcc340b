"""The forms of the webhooks admin: a subscription (its URL checked as the worker will check it),
and the date range of a redelivery."""

from django import forms
from django.utils import timezone

from events.models import EventType

from .endpoints import validate_url
from .models import Subscription

URL_FIELD = Subscription._meta.get_field("url")


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=URL_FIELD.max_length,
        assume_scheme="https",
        help_text=URL_FIELD.help_text,
        widget=forms.URLInput(attrs={"class": "vURLField", "size": 80}),
    )
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type, including types added later.",
    )

    class Meta:
        model = Subscription
        fields = ["url", "description", "accounts", "event_types"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        validate_url(url)  # https:// only (webhooks.endpoints); the service checks it again
        return url


class RedeliverForm(forms.Form):
    date_from = forms.DateField(label="From", initial=timezone.localdate)
    date_to = forms.DateField(label="To (included)", initial=timezone.localdate)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The first day is after the last.")
        return data
