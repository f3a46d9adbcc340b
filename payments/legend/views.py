"""The Legend-compatible endpoints: each action parses, calls one selector or service, renders."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from billing_site.api.limits import BodyLimits
from billing_site.api.parsers import DecimalJSONParser, DecimalTextJSONParser
from billing_site.api.renderers import ExactNumberJSONRenderer
from billing_site.api.throttles import AddressLockoutOnRefusal, ApiRateThrottle
from billing_site.api.validation import validated
from contacts.authentication import (
    BearerCredentialAuthentication,
    StaffSessionAuthentication,
    request_grantee,
)
from contacts.models import Contact
from contacts.permissions import HasPrivilegeOnSomeAccount
from contacts.roles import Privilege, roles_with
from contacts.selectors import contact_by_guid, roles_on_account
from invoices.models import BillingItem
from invoices.selectors import contact_billing_item_rows

from ..actors import Actor, Channel
from ..idempotency import respond_once
from ..lines import BillingLine, WriteDownLine
from ..locks import contact_for_payment
from ..request_transaction import OneTransactionPerWrite
from ..services import billing_items_pay, billing_items_write_down
from .bodies import BILLING_FIELDS, billing_body, processed_body
from .errors import OTHER_ROLE, LegendFailure, legend_exception_handler
from .queries import billings_query
from .schema import (
    BILLINGS_EXAMPLES,
    PAYMENT_EXAMPLES,
    WRITE_DOWN_EXAMPLES,
    LegendSchema,
    processed,
)
from .serializers import (
    BillingPaymentsRequestSerializer,
    BillingPaymentsResponseSerializer,
    BillingsQuerySerializer,
    BillingsResponseSerializer,
    BillingWriteDownsRequestSerializer,
    BillingWriteDownsResponseSerializer,
)


class LegendViewSet(
    OneTransactionPerWrite, BodyLimits, AddressLockoutOnRefusal, viewsets.GenericViewSet
):
    """Legend's POS endpoints. A partner key (`Authorization: Bearer <key>`) or a staff session;
    the key needs the endpoint's permission on the contact's account."""

    authentication_classes = [BearerCredentialAuthentication, StaffSessionAuthentication]
    permission_classes = [HasPrivilegeOnSomeAccount]
    throttle_classes = [ApiRateThrottle]  # billing_site/api/throttles.py
    parser_classes = [DecimalJSONParser, DecimalTextJSONParser]
    renderer_classes = [ExactNumberJSONRenderer]
    metadata_class = None
    schema = LegendSchema()
    required_privilege: str
    lines_key: str  # the list in this endpoint's response, also in its failures
    date_key: str  # the request's date, repeated on each line of the answer

    def get_exception_handler(self):
        return legend_exception_handler

    def parse(self, serializer_class, data) -> dict:
        return validated(serializer_class, data)  # billing_site/api/validation.py

    def contact_in_scope(self, contact_id, *, unknown_status: int = 200) -> Contact:
        """The contact, if the caller holds a role on its account. A contact of an account outside
        the caller's is answered exactly as an unknown one, so a key cannot learn that a GUID
        exists elsewhere; a role without this endpoint's privilege is a 403."""
        return self.in_scope(contact_id, contact_by_guid(contact_id), unknown_status)

    def in_scope(self, contact_id, contact: Contact | None, unknown_status: int = 200) -> Contact:
        """`contact_in_scope` for a contact already looked up (None: there is none)."""
        self.check_scope(
            contact_id, None if contact is None else contact.account_id, unknown_status
        )
        return contact

    def check_scope(self, contact_id, account_id: int | None, unknown_status: int) -> None:
        """`contact_in_scope`'s judgement of the contact `contact_id`, of the account `account_id`
        (None: no contact has that GUID)."""
        roles = (
            roles_on_account(account_id=account_id, **request_grantee(self.request))
            if account_id is not None
            else frozenset()
        )
        if not roles:
            raise LegendFailure(f"Contact {contact_id} was not found.", status=unknown_status)
        if roles.isdisjoint(roles_with(self.required_privilege)):
            raise PermissionDenied(OTHER_ROLE)

    def answer(self, contact: Contact, result, body: dict) -> Response:
        """The answer to a payment or write-down: each line's outcome, with the request's date
        (payments.legend.bodies)."""
        date = body[self.date_key]
        return Response(
            processed_body(
                contact.guid, result.all_applied, result.lines, self.lines_key, self.date_key, date
            )
        )

    def actor(self) -> Actor:
        return Actor(channel=Channel.LEGEND_API, **request_grantee(self.request))


class BillingPaymentsViewSet(LegendViewSet):
    required_privilege = Privilege.BILLING_PAYMENT
    lines_key = "BillingPayments"
    date_key = "PaymentDate"

    @extend_schema(
        operation_id="BillingPayments_Post",
        summary="Record payments collected elsewhere against a contact's billing items",
        request=BillingPaymentsRequestSerializer,
        responses={200: processed(BillingPaymentsResponseSerializer)},
        examples=PAYMENT_EXAMPLES,
    )
    def create(self, request):
        return respond_once(self, request, lambda: self.pay(request))

    def pay(self, request) -> Response:
        body = self.parse(BillingPaymentsRequestSerializer, request.data)
        # The contact with its account locked for the payment, in one statement: the lock is
        # taken before the scope check, and held until the request's transaction ends (a request
        # refused here holds it no longer than its rollback).
        found = contact_for_payment(body["ContactId"], body["TenderTypeId"])
        contact, account_lock = found if found is not None else (None, None)
        contact = self.in_scope(body["ContactId"], contact)
        result = billing_items_pay(
            account_lock=account_lock,
            contact=contact,
            tender_type_id=body["TenderTypeId"],
            payment_date=body["PaymentDate"],
            lines=[
                BillingLine(
                    billing_id=line["BillingId"],
                    amount=line["Amount"],
                    reference=line["ThirdPartyReference"] or "",
                    notes=line["Notes"] or "",
                    authorization_code=line["AuthorizationCode"] or "",
                )
                for line in body["BillingPayments"]
            ],
            actor=self.actor(),
        )
        return self.answer(contact, result, body)


class BillingWriteDownsViewSet(LegendViewSet):
    required_privilege = Privilege.BILLING_WRITE_DOWN
    lines_key = "BillingWriteDowns"
    date_key = "WriteDownDate"

    @extend_schema(
        operation_id="BillingWriteDowns_Post",
        summary="Write off part of a contact's billing-item balances (finance)",
        request=BillingWriteDownsRequestSerializer,
        responses={200: processed(BillingWriteDownsResponseSerializer)},
        examples=WRITE_DOWN_EXAMPLES,
    )
    def create(self, request):
        return respond_once(self, request, lambda: self.write_down(request))

    def write_down(self, request) -> Response:
        body = self.parse(BillingWriteDownsRequestSerializer, request.data)
        contact = self.contact_in_scope(body["ContactId"])
        result = billing_items_write_down(
            contact=contact,
            write_down_date=body["WriteDownDate"],
            lines=[
                WriteDownLine(
                    billing_id=line["BillingId"],
                    amount=line["Amount"],
                    gl_account_id=line.get("GLAccountId"),
                )
                for line in body["BillingWriteDowns"]
            ],
            reason=body["Notes"],
            actor=self.actor(),
        )
        return self.answer(contact, result, body)


class BillingsViewSet(LegendViewSet):
    required_privilege = Privilege.BILLING_PAYMENT
    lines_key = "Billings"
    queryset = BillingItem.objects.none()  # for the schema only; list() uses the selector

    @extend_schema(
        operation_id="Billings_Get",
        summary="A contact's billing items, so a till can see what to pay",
        parameters=[BillingsQuerySerializer],
        responses={
            200: OpenApiResponse(
                BillingsResponseSerializer,
                description="The contact's billing items, oldest due first (only those with a "
                "balance with OutstandingOnly=true); `Success` is true.",
            )
        },
        examples=BILLINGS_EXAMPLES,
    )
    def list(self, request):
        query = billings_query(request.query_params) or self.parse(
            BillingsQuerySerializer, request.query_params
        )
        contact_id = query["ContactId"]
        # The contact and its items in one statement; no row is shown before the scope check.
        found = contact_billing_item_rows(
            contact_id, BILLING_FIELDS, outstanding_only=query["OutstandingOnly"]
        )
        self.check_scope(contact_id, None if found is None else found[1], unknown_status=404)
        # Rows, not instances, as BillingsResponseSerializer describes them (.bodies).
        response = {
            "ContactId": str(contact_id),
            "Success": True,
            "ErrorMessage": None,
            "Billings": [billing_body(row) for row in found[2]],
        }
        return Response(response)
