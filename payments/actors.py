"""Who is moving money, and through which channel: recorded on every payment, write-down and
reversal."""

from dataclasses import dataclass

from django.db import models


class Channel(models.TextChoices):
    DOCUSIGN_API = "docusign_api", "Account billing API (DocuSign)"
    LEGEND_API = "legend_api", "Billing payments API (Legend)"
    STAFF = "staff", "Staff (admin and back office)"
    SYSTEM = "system", "System (commands, demo data)"


API_CHANNELS = frozenset({Channel.DOCUSIGN_API, Channel.LEGEND_API})


@dataclass(frozen=True)
class Actor:
    channel: str
    user: object | None = None  # a staff user (django.contrib.auth), when a person acts
    credential: object | None = None  # a contacts.ApiCredential, when a partner system acts

    def __post_init__(self) -> None:
        if self.channel not in Channel.values:
            raise ValueError(f"Unknown channel {self.channel!r}.")
        if self.user is not None and self.credential is not None:
            raise ValueError("An actor is a user or a credential, not both.")
        if self.channel == Channel.STAFF and self.user is None:
            raise ValueError("A staff action needs the staff user.")
        if self.channel in API_CHANNELS and self.user is None and self.credential is None:
            raise ValueError("An API action needs the credential or user that made it.")

    @property
    def is_api(self) -> bool:
        return self.channel in API_CHANNELS

    def recorded_by(self) -> dict:
        """The audit fields of `Recorded`, ready for a model's constructor."""
        return {
            "channel": self.channel,
            "recorded_by_user": self.user,
            "recorded_by_credential": self.credential,
        }


SYSTEM = Actor(channel=Channel.SYSTEM)
