"""Template filters for the back office: amounts and lateness, by the one rule for each."""

from django import template

from billing_site.money import format_amount
from invoices import due

register = template.Library()


@register.filter
def amount(value) -> str:
    """An amount as everywhere in this project: "1060.00" (the currency is shown beside it)."""
    return "" if value is None else format_amount(value)


@register.filter
def days_late(due_date) -> int:
    """Whole days past `due_date` today; 0 when not yet late."""
    return due.days_late(due_date)
