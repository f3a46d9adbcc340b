"""OpenAPI description of the partner credential (drf-spectacular), loaded by ContactsConfig."""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerCredentialScheme(OpenApiAuthenticationExtension):
    target_class = "contacts.authentication.BearerCredentialAuthentication"
    name = "partnerKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A partner API key: `Authorization: Bearer <secret>` "
            "(manage.py create_api_key).",
        }


class StaffSessionScheme(SessionScheme):
    """A staff session on the API: the same cookie as Django's session (audit notes the user)."""

    target_class = "contacts.authentication.StaffSessionAuthentication"
