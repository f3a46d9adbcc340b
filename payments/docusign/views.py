"""The DocuSign-compatible endpoints: each action parses, calls one selector or service, renders.

The same viewsets serve both mounts; `SeedMount` only swaps the envelope, the error shape and the
extra `id` / `created_at` of a new payment.
"""

from functools import partial

from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from billing_site.api.errors import ApiError
from billing_site.api.filters import DateRangeFilterSet, valid_date_range
from billing_site.api.limits import BodyLimits
from billing_site.api.pagination import KeysetRows, uri_cursor_pagination
from billing_site.api.parsers import DecimalJSONParser
from billing_site.api.renderers import EnvelopeJSONRenderer, PDFRenderer
from billing_site.api.throttles import AddressLockoutOnRefusal, ApiRateThrottle
from billing_site.api.validation import validated
from contacts.authentication import (
    BearerCredentialAuthentication,
    StaffSessionAuthentication,
    request_grantee,
)
from contacts.permissions import HasAccountPrivilege
from contacts.roles import Privilege
from invoices.models import Invoice
from invoices.pdf import pdf_response
from invoices.selectors import account_invoices, past_due_rows

from ..actors import Actor, Channel
from ..idempotency import respond_once
from ..models import Payment
from ..request_transaction import OneTransactionPerWrite
from ..selectors import account_payment_page, account_payment_row, account_payment_rows
from ..services import InvoicesPaid, invoices_pay
from .bodies import past_due_body, payment_item_body, payment_items_body
from .errors import restapi_exception_handler, seed_exception_handler
from .schema import (
    INVOICE_EXAMPLES,
    PAST_DUE_EXAMPLES,
    PAY_EXAMPLES,
    PAYMENT_EXAMPLES,
    AccountBillingSchema,
)
from .serializers import (
    BillingInvoiceSerializer,
    BillingInvoicesSummarySerializer,
    BillingPaymentItemSerializer,
    BillingPaymentRequestSerializer,
    BillingPaymentResponseSerializer,
)


class PaymentDateRange(DateRangeFilterSet):
    date_field = "payment_date"


class InvoiceDateRange(DateRangeFilterSet):
    date_field = "issue_date"
    date_only = True


class AccountBillingViewSet(
    OneTransactionPerWrite, BodyLimits, AddressLockoutOnRefusal, viewsets.GenericViewSet
):
    """Requires credentials of an account administrator of `{accountId}` (a partner key as
    `Authorization: Bearer <key>`, or a logged-in staff session). All values are strings."""

    authentication_classes = [BearerCredentialAuthentication, StaffSessionAuthentication]
    permission_classes = [HasAccountPrivilege]
    throttle_classes = [ApiRateThrottle]  # billing_site/api/throttles.py
    required_privilege = Privilege.ACCOUNT_ADMIN
    parser_classes = [DecimalJSONParser]
    renderer_classes = [JSONRenderer]
    lookup_value_regex = "[^/]+"
    metadata_class = None  # OPTIONS answers with Allow only, not DRF's form description
    schema = AccountBillingSchema()
    operation_ids: dict[str, str] = {}

    def get_exception_handler(self):
        return restapi_exception_handler

    def handle_exception(self, exc):
        # An error answers in JSON even when a PDF was asked for.
        if isinstance(getattr(self.request, "accepted_renderer", None), PDFRenderer):
            self.request.accepted_renderer = self.renderer_classes[0]()
            self.request.accepted_media_type = self.request.accepted_renderer.media_type
        return super().handle_exception(exc)

    def payment_created_body(self, paid: InvoicesPaid, body: dict) -> dict:
        return body

    def lookup_id(self, not_found_code: str, what: str) -> int:
        value = self.kwargs["pk"]
        if not (value.isascii() and value.isdigit()):  # "²".isdigit(), but int("²") fails
            raise ApiError(404, not_found_code, f"{what} {value!r} was not found in this account.")
        return int(value)


class SeedMount:
    """The seed's envelope: `{"success": true, "data": ...}` and its error shape."""

    renderer_classes = [EnvelopeJSONRenderer]
    seed_mount = True

    def get_exception_handler(self):
        return seed_exception_handler

    def payment_created_body(self, paid: InvoicesPaid, body: dict) -> dict:
        created_at = paid.payment.processed_at.isoformat().replace("+00:00", "Z")
        return {"id": str(paid.payment.pk), "created_at": created_at, **body}


class PastDueInvoicesViewSet(AccountBillingViewSet):
    operation_ids = {"list": "listInvoicesPastDue"}
    queryset = Invoice.objects.none()  # for the schema's path types; list() uses the selector

    @extend_schema(
        summary="Past-due invoices and balances of the account",
        responses=OpenApiResponse(
            BillingInvoicesSummarySerializer,
            description="`billingInvoicesSummary`: the balance of every open invoice, the past-due "
            "balance (due before today, UTC) and the past-due invoices, oldest due first.",
        ),
        examples=PAST_DUE_EXAMPLES,
    )
    def list(self, request, account_id):
        # From rows, as BillingInvoicesSummarySerializer describes it (.bodies).
        return Response(past_due_body(past_due_rows(self.account), self.invoice_uri_prefix()))

    def invoice_uri_prefix(self) -> str:
        """An invoice's URI without its id, on this request's mount, with the account's number
        whichever form of {accountId} the request used (as BillingInvoiceSerializer builds it)."""
        uri = reverse(
            f"{self.request.resolver_match.namespace}:billing-invoices-detail",
            kwargs={"account_id": self.account.number, "pk": 0},
        )
        prefix, _, pk = uri.rpartition("/")
        assert pk == "0", uri  # noqa: S101 - the route ends with the id
        return f"{prefix}/"


class BillingInvoiceViewSet(AccountBillingViewSet):
    filter_backends = [DjangoFilterBackend]
    filterset_class = InvoiceDateRange
    pagination_class = uri_cursor_pagination("billingInvoices")
    serializer_class = BillingInvoiceSerializer
    operation_ids = {"list": "listInvoices", "retrieve": "getInvoice"}

    def get_renderers(self):
        renderers = super().get_renderers()
        return [*renderers, PDFRenderer()] if self.action == "retrieve" else renderers

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no account
            return Invoice.objects.none()
        return account_invoices(self.account)

    @extend_schema(
        summary="The account's invoices in a date range",
        responses=OpenApiResponse(
            BillingInvoiceSerializer,
            description="A chunk of the invoices issued in the range (void ones left out), in id "
            "order; `nextUri` / `previousUri` are null at either end.",
        ),
        examples=INVOICE_EXAMPLES,
    )
    def list(self, request, account_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="One invoice; with Accept: application/pdf, the invoice as a PDF",
        responses={
            (200, "application/json"): OpenApiResponse(
                BillingInvoiceSerializer,
                description="The invoice; with Accept: application/pdf, its PDF.",
            ),
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
        examples=INVOICE_EXAMPLES,
    )
    def retrieve(self, request, account_id, pk):
        invoice_id = self.lookup_id("INVOICE_NOT_FOUND", "Invoice")
        invoice = self.get_queryset().select_related("account").filter(pk=invoice_id).first()
        if invoice is None:
            raise ApiError(
                404, "INVOICE_NOT_FOUND", f"Invoice {pk!r} was not found in this account."
            )
        if isinstance(request.accepted_renderer, PDFRenderer):
            return pdf_response(invoice)
        return Response(self.get_serializer(invoice).data)


class BillingPaymentViewSet(AccountBillingViewSet):
    filter_backends = [DjangoFilterBackend]
    filterset_class = PaymentDateRange
    pagination_class = uri_cursor_pagination("billingPayments")
    serializer_class = BillingPaymentItemSerializer
    operation_ids = {"list": "listPayments", "retrieve": "getPayment", "create": "makePayment"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no account
            return Payment.objects.none()
        return account_payment_rows(self.account)

    @extend_schema(
        summary="The account's payments in a date range",
        responses=OpenApiResponse(
            BillingPaymentItemSerializer,
            description="A chunk of the payments made in the range, in id order; `nextUri` / "
            "`previousUri` are null at either end.",
        ),
        examples=PAYMENT_EXAMPLES,
    )
    def list(self, request, account_id):
        # Rows, not instances; the items as BillingPaymentItemSerializer describes them. The page
        # is read by one statement written once, under DRF's own cursor paging (KeysetRows).
        date_range = valid_date_range(request.query_params)
        if date_range is None:  # the filter set refuses it: its 400, as it always answered
            self.filter_queryset(self.get_queryset())
            raise AssertionError("DateRangeFilterSet took a range that valid_date_range refused")
        rows = KeysetRows(
            partial(account_payment_page, self.account, date_range.start, date_range.stop)
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(payment_items_body(page))

    @extend_schema(
        summary="One payment",
        responses=OpenApiResponse(
            BillingPaymentItemSerializer,
            description="The payment (its description ends `(reversed)` once it was reversed).",
        ),
        examples=PAYMENT_EXAMPLES,
    )
    def retrieve(self, request, account_id, pk):
        payment_id = self.lookup_id("PAYMENT_NOT_FOUND", "Payment")
        payment = account_payment_row(self.account, payment_id)
        if payment is None:
            raise ApiError(
                404, "PAYMENT_NOT_FOUND", f"Payment {pk!r} was not found in this account."
            )
        return Response(payment_item_body(payment))

    @extend_schema(
        summary="Pay the account's past-due invoices (or one, with invoiceId)",
        request=BillingPaymentRequestSerializer,
        responses={
            201: OpenApiResponse(
                BillingPaymentResponseSerializer,
                description="Paid, in one payment: one `billingPayment` per invoice settled, "
                "oldest due first.",
            )
        },
        examples=PAY_EXAMPLES,
    )
    def create(self, request, account_id):
        return respond_once(self, request, lambda: self.pay(request))

    def pay(self, request) -> Response:
        payment_request = validated(BillingPaymentRequestSerializer, request.data)
        invoice_id = payment_request.get("invoiceId")
        paid = invoices_pay(
            account_id=self.account.pk,
            amount=payment_request["paymentAmount"],
            actor=Actor(channel=Channel.DOCUSIGN_API, **request_grantee(request)),
            invoice_ids=None if invoice_id is None else [invoice_id],
            past_due_only=True,
            settle_in_full=True,
        )
        body = BillingPaymentResponseSerializer(paid).data
        return Response(self.payment_created_body(paid, body), status=201)


def seed_mounted(viewset: type[AccountBillingViewSet]) -> type[AccountBillingViewSet]:
    """The same viewset on the seed's mount."""
    return type(f"Seed{viewset.__name__}", (SeedMount, viewset), {})
