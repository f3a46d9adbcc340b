from django import template
from django.utils.html import format_html

from audit.filters import history_url

register = template.Library()


@register.simple_tag(takes_context=True)
def audit_history_link(context, obj):
    """An object-tools item opening the object's audit trail, for staff who may read it."""
    request = context.get("request")
    if obj is None or request is None or not request.user.has_perm("audit.view_auditevent"):
        return ""
    url = history_url(obj)
    if url is None:
        return ""
    return format_html(
        '<li><a class="audit-history-link" href="{}">History of changes (audit)</a></li>', url
    )
