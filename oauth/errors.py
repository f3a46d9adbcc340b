"""OAuth refusals, answered as RFC 6749 section 5.2 and DocuSign do: status 400 (401 for a bad
access token at userinfo) and `{"error": ..., "error_description": ...}`."""

from django.http import JsonResponse


class OAuthError(Exception):
    status = 400

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description

    def response(self) -> JsonResponse:
        response = JsonResponse(
            {"error": self.error, "error_description": self.description}, status=self.status
        )
        response["Cache-Control"] = "no-store"
        return response


class InvalidToken(OAuthError):
    status = 401

    def __init__(self, description: str = "The access token is not valid or has expired.") -> None:
        super().__init__("invalid_token", description)

    def response(self) -> JsonResponse:
        response = super().response()
        response["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="{self.description}"'
        )
        return response


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description)


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


class InvalidClient(OAuthError):
    """The client did not authenticate (RFC 6749 section 5.2): 401, asking for HTTP Basic."""

    status = 401

    def __init__(self, description: str = "Client authentication failed.") -> None:
        super().__init__("invalid_client", description)

    def response(self) -> JsonResponse:
        response = super().response()
        response["WWW-Authenticate"] = 'Basic realm="oauth"'
        return response
