"""OpenAPI for the DocuSign-compatible endpoints: DocuSign's operation ids, one tag per mount."""

from copy import deepcopy

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from billing_site.api.schema import CommonErrorResponses

from .serializers import EnvelopedErrorSerializer, ErrorSerializer

PDF = {"type": "string", "format": "binary"}
CREATED = {  # what the seed mount adds to a new payment, as in the seed's sample
    "type": "object",
    "required": ["id", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}


def enveloped(schema: dict) -> dict:
    """`{"success": true, "data": <schema>}`, the seed mount's success body."""
    return {
        "type": "object",
        "required": ["success", "data"],
        "properties": {"success": {"type": "boolean", "enum": [True]}, "data": schema},
    }


ACCOUNT_ID = OpenApiParameter(
    "account_id",
    str,
    OpenApiParameter.PATH,
    description="The external account number (int) or account ID GUID.",
)


class AccountBillingSchema(CommonErrorResponses, AutoSchema):
    # 404 on every operation too: an {accountId} or id holding "/" matches no endpoint.
    extra_error_statuses = (404,)

    def is_seed_mount(self) -> bool:
        return getattr(self.view, "seed_mount", False)

    def error_body(self):
        return EnvelopedErrorSerializer if self.is_seed_mount() else ErrorSerializer

    def get_operation_id(self) -> str:
        operation_id = self.view.operation_ids[self.view.action]
        return f"{operation_id}Enveloped" if self.is_seed_mount() else operation_id

    def get_tags(self) -> list[str]:
        if self.is_seed_mount():
            return ["Account billing, enveloped ({success, data} / {success, error})"]
        return ["Account billing (DocuSign eSignature v2.1 compatible)"]

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        """Describe what is sent: the seed mount's envelope, and the invoice PDF as bytes."""
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if not str(status_code).startswith("2"):
            return response
        for media_type, content in response.get("content", {}).items():
            if media_type == "application/pdf":
                content["schema"] = deepcopy(PDF)
            elif self.is_seed_mount() and "schema" in content:
                data = content["schema"]
                if self.view.action == "create":
                    data = {"allOf": [deepcopy(CREATED), data]}
                content["schema"] = enveloped(data)
        return response

    def get_override_parameters(self) -> list:
        parameters = [ACCOUNT_ID]
        if self.view.action == "retrieve":
            parameters.append(OpenApiParameter("id", str, OpenApiParameter.PATH))
        return [*parameters, *super().get_override_parameters()]
