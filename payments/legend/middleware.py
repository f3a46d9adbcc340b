"""Legend's routes are ASP.NET Web API routes, which ignore case: `/pos/billingpayments` reaches
`/POS/BillingPayments` there, so it does here too."""

from django.urls import reverse

ENDPOINTS = (
    "legend:billing-payments-list",
    "legend:billing-write-downs-list",
    "legend:billings-list",
)


class LegendPathCaseMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.canonical = None  # built on the first request, once the URLconf is loaded

    def __call__(self, request):
        if request.path_info[:5].lower() == "/pos/":
            if self.canonical is None:
                self.canonical = {reverse(name).lower(): reverse(name) for name in ENDPOINTS}
            request.path_info = self.canonical.get(request.path_info.lower(), request.path_info)
        return self.get_response(request)
