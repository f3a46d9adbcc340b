"""Headers every API response carries, whichever view (or error handler) produced it."""

from django.utils.cache import patch_cache_control

# Where the APIs are mounted; Legend's paths ignore case (payments.legend.middleware).
API_PATH_PREFIXES = ("/restapi/", "/v2.1/", "/pos/")


def is_api_path(path: str) -> bool:
    return path.lower().startswith(API_PATH_PREFIXES)


class ApiResponseHeadersMiddleware:
    """`Cache-Control: no-store` on API responses: balances and payments are never to be kept by
    a browser, a proxy or a client library's cache."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api_path(request.path):
            patch_cache_control(response, no_store=True)
        return response
