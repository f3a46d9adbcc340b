"""Preview, then confirm once: the record-a-payment pattern (previews.py) for the credit pages.

Applying credit, refunding and issuing a credit note record no payment, so `previews.record_once`
(which names the payment a token recorded) does not fit them; this is the same guarantee with the
outcome kept as words and a link on the token's `ConfirmedPreview` row: a second confirm of the
same preview records nothing, says what the first recorded and goes to it.

A page subclasses `PreviewConfirmView` and says which form it shows, which service it calls with
which arguments, what its preview signs and where its outcome is shown. Refusals of the service
(`PaymentError`) are form errors; nothing is written.
"""

import hashlib
from collections.abc import Callable

from django.contrib import messages
from django.core import signing
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.views import View

from payments.errors import PaymentError
from payments.services import dry_run

from . import previews
from .access import RecordPaymentMixin
from .models import ConfirmedPreview

CONFIRM = "confirm"


class AlreadyConfirmed(Exception):
    def __init__(self, confirmed: ConfirmedPreview) -> None:
        super().__init__(confirmed.outcome)
        self.confirmed = confirmed


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def confirmed_before(kind: str, token: str | None, user) -> ConfirmedPreview | None:
    """The row of `token`, a genuine preview of `kind` by `user`, if it was confirmed already."""
    if not token:
        return None
    try:
        previewed = signing.loads(token, salt=previews._salt(kind))
    except signing.BadSignature:
        return None
    if not isinstance(previewed, dict) or previewed.get("user") != user.pk:
        return None
    return ConfirmedPreview.objects.filter(digest=_digest(token)).first()


@transaction.atomic
def confirm_once(token: str, record: Callable, outcome: Callable) -> object:
    """`record()` at most once for `token` (see previews.record_once); `outcome(result)` gives the
    (words, url) kept for a repeat. A refusal rolls the claim back with the service's writes."""
    try:
        with transaction.atomic():
            claim = ConfirmedPreview.objects.create(digest=_digest(token))
    except IntegrityError:
        raise AlreadyConfirmed(ConfirmedPreview.objects.get(digest=_digest(token))) from None
    result = record()
    claim.outcome, claim.outcome_url = outcome(result)
    claim.save(update_fields=["outcome", "outcome_url"])
    return result


class PreviewConfirmView(RecordPaymentMixin, View):
    kind: str  # the token's salt, one per page
    template: str
    confirm_label: str

    # What a page says: -------------------------------------------------------------------------
    def load(self, pk: int) -> None:
        """Read the page's object(s) onto `self` (404 if missing)."""
        raise NotImplementedError

    def make_form(self, data=None):
        raise NotImplementedError

    def service(self) -> Callable:
        raise NotImplementedError

    def arguments(self, form) -> dict:
        """The service's arguments from the valid form (the actor is added)."""
        raise NotImplementedError

    def content(self, form) -> dict:
        """What the preview signs: JSON types, every input that decides what is recorded."""
        raise NotImplementedError

    def outcome(self, result) -> tuple[str, str]:
        """(message, url) once recorded."""
        raise NotImplementedError

    def page(self) -> dict:
        """The template's context besides the form and the preview."""
        return {}

    def preview_of(self, arguments: dict):
        """The service's result in a rolled-back transaction (payments.services.dry_run)."""
        return dry_run(self.service(), **arguments)

    # The flow: -----------------------------------------------------------------------------------
    def get(self, request, pk: int):
        self.load(pk)
        return self.show(self.make_form())

    def post(self, request, pk: int):
        self.load(pk)
        token = request.POST.get(previews.FIELD)
        confirming = request.POST.get("action") == CONFIRM
        if confirming and (earlier := confirmed_before(self.kind, token, request.user)):
            return self.repeat(earlier)
        form = self.make_form(request.POST)
        preview = signed = None
        if form.is_valid():
            arguments = {**self.arguments(form), "actor": self.actor()}
            shown = {"user": request.user.pk, **self.content(form)}
            try:
                if confirming and previews.confirms(self.kind, token, shown):
                    service = self.service()
                    result = confirm_once(token, lambda: service(**arguments), self.outcome)
                    message, url = self.outcome(result)
                    messages.success(request, message)
                    return redirect(url)
                if confirming:
                    messages.warning(request, CHANGED)
                preview = self.preview_of(arguments)
                signed = previews.sign(self.kind, shown)
            except AlreadyConfirmed as repeat:
                return self.repeat(repeat.confirmed)
            except PaymentError as refusal:
                form.add_error(None, refusal.message)
        return self.show(form, preview=preview, preview_token=signed)

    def show(self, form, **extra):
        return self.render(
            self.template, form=form, confirm_label=self.confirm_label, **self.page(), **extra
        )

    def repeat(self, earlier: ConfirmedPreview):
        messages.warning(
            self.request,
            f"This preview was confirmed already ({earlier.outcome}): nothing more was recorded.",
        )
        return redirect(earlier.outcome_url or "backoffice:dashboard")


CHANGED = "It changed since its preview: check this preview and confirm again."
