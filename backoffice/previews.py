"""A preview binds its confirmation: "Record payment" records exactly what was previewed.

A successful preview puts a signed token of what it showed on the page (who previews, for which
account or contact, and every input that decides the payment or is recorded with it: invoices or
lines and amounts, tender type, payment date, reference, notes). Confirming recomputes the same
content from the submitted form and records only if the token is valid (right kind, not tampered
with, at most `MAX_AGE` old) and its content is equal; otherwise the view shows a new preview of
what was submitted, with `CHANGED`. The balances are not in the token: the money service judges
them again when it records.

A token records once (`record_once`): confirming it again (a double click, the back button, a
retry) records nothing and names the payment it recorded (`recorded_by`), even after it expired.
The database guarantees it: the token's digest is inserted, unique, in the transaction that
records the payment, so two confirms at the same instant cannot both record.
"""

import hashlib
from collections.abc import Callable

from django.core import signing
from django.db import IntegrityError, transaction

from billing_site.money import InvalidAmount, format_amount, parse_amount

from .models import ConfirmedPreview

FIELD = "preview"  # the hidden input that carries the token
MAX_AGE = 15 * 60  # seconds
ACCOUNT, CONTACT = "account", "contact"  # the kinds of form, each its own salt
CHANGED = "The payment changed since its preview: check this preview and confirm again."


def _salt(kind: str) -> str:
    return f"backoffice.previews.{kind}"


def sign(kind: str, content: dict) -> str:
    return signing.dumps(content, salt=_salt(kind), compress=True)


def confirms(kind: str, token: str | None, content: dict) -> bool:
    """Whether `token` is a valid preview of exactly `content`."""
    if not token:
        return False
    try:
        previewed = signing.loads(token, salt=_salt(kind), max_age=MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return False
    return previewed == content


class AlreadyRecorded(Exception):
    """The token was confirmed before: `payment` is what it recorded."""

    def __init__(self, payment) -> None:
        super().__init__(f"Preview already recorded as {payment}")
        self.payment = payment


def already_recorded(payment) -> str:
    return (
        f"Payment {payment.number} ({format_amount(payment.amount)} {payment.currency}) was "
        "already recorded from this preview: nothing more was recorded."
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def recorded_by(kind: str, token: str | None, user):
    """The payment that `token`, a genuine preview of `kind` by `user` (of any age: a late repeat
    is still a repeat), already recorded; None if it recorded none or is no such preview."""
    if not token:
        return None
    try:
        previewed = signing.loads(token, salt=_salt(kind))
    except signing.BadSignature:
        return None
    if not isinstance(previewed, dict) or previewed.get("user") != user.pk:
        return None
    used = ConfirmedPreview.objects.filter(digest=_digest(token)).select_related("payment").first()
    return used.payment if used is not None else None


@transaction.atomic
def record_once(token: str, record: Callable):
    """`record()` (a money service call, whose result's `payment` is the payment it recorded or
    None) run at most once for `token`, whoever else confirms it and when.

    The token's digest is inserted first, in this transaction: a concurrent confirm of the same
    token waits on the unique index until this one commits, then raises `AlreadyRecorded` (or, if
    this one rolled back, records as if first). A refusal (`PaymentError`) or a result that records
    nothing rolls the digest back: the token stays free, since nothing was recorded with it.
    """
    digest = _digest(token)
    try:
        with transaction.atomic():
            used = ConfirmedPreview.objects.create(digest=digest)
    except IntegrityError:
        earlier = ConfirmedPreview.objects.select_related("payment").get(digest=digest)
        raise AlreadyRecorded(earlier.payment) from None
    paid = record()
    if paid.payment is None:
        transaction.set_rollback(True)
        return paid
    used.payment = paid.payment
    used.save(update_fields=["payment"])
    return paid


def _details(cleaned: dict) -> dict:
    """The details every payment form asks for (`forms.PaymentDetailsForm`), as recorded."""
    return {
        "tender_type": cleaned["tender_type"].pk,
        "payment_date": cleaned["payment_date"].isoformat(),
        "reference": cleaned.get("reference", ""),
        "notes": cleaned.get("notes", ""),
    }


def account_payment(account, cleaned: dict, user) -> dict:
    """What an account payment's preview shows; JSON types, so that a signed copy compares equal.
    `to_credit` only when asked (a preview without it signs what it always signed)."""
    content = {
        "user": user.pk,
        "account": account.pk,
        "amount": format_amount(cleaned["amount"]),
        "invoices": sorted(cleaned["invoices"]),
        **_details(cleaned),
    }
    if cleaned.get("to_credit"):
        content["to_credit"] = True
    return content


def contact_payment(contact, cleaned: dict, user) -> dict:
    return {
        "user": user.pk,
        "contact": contact.pk,
        **_details(cleaned),
        "lines": [[line.billing_id, _line_amount(line.amount)] for line in cleaned["lines"]],
    }


def _line_amount(raw) -> str:
    """A line's amount as the service reads it ("30" and "30.00" are the same payment); raw input
    the service will refuse stays as typed."""
    try:
        return format_amount(parse_amount(raw))
    except InvalidAmount:
        return str(raw)
