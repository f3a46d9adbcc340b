"""A preview binds its confirmation: "Record payment" records exactly what was previewed.

A successful preview puts a signed token of what it showed on the page (who previews, for which
account or contact, and every input that decides the payment or is recorded with it: invoices or
lines and amounts, tender type, payment date, reference, notes). Confirming recomputes the same
content from the submitted form and records only if the token is valid (right kind, not tampered
with, at most `MAX_AGE` old) and its content is equal; otherwise the view shows a new preview of
what was submitted, with `CHANGED`. The balances are not in the token: the money service judges
them again when it records.
"""

from django.core import signing

from billing_site.money import InvalidAmount, format_amount, parse_amount

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


def _details(cleaned: dict) -> dict:
    """The details every payment form asks for (`forms.PaymentDetailsForm`), as recorded."""
    return {
        "tender_type": cleaned["tender_type"].pk,
        "payment_date": cleaned["payment_date"].isoformat(),
        "reference": cleaned.get("reference", ""),
        "notes": cleaned.get("notes", ""),
    }


def account_payment(account, cleaned: dict, user) -> dict:
    """What an account payment's preview shows; JSON types, so that a signed copy compares equal."""
    return {
        "user": user.pk,
        "account": account.pk,
        "amount": format_amount(cleaned["amount"]),
        "invoices": sorted(cleaned["invoices"]),
        **_details(cleaned),
    }


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
