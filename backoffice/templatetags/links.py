"""Template tags for backoffice.links: `{% past_due_url row.currency bucket as_of %}`."""

from django import template

from backoffice import links

register = template.Library()


@register.simple_tag
def past_due_url(currency, bucket=None, as_of=None) -> str:
    return links.past_due_url(currency, bucket or None, as_of or None)


@register.simple_tag
def accounts_past_due_url(currency) -> str:
    return links.accounts_past_due_url(currency)
