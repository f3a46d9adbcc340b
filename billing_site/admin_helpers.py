"""Pieces shared by the apps' admin modules. No domain rules: those stay in the services.

- `ReadOnlyAdmin`, `ReadOnlyInline`: rows a service writes, shown for reference only.
- `ChangedFieldsOnlyMixin`: an edit writes only the fields the form changed, so a balance loaded
  with the page is never written back over one the money service changed meanwhile.
- `YesNoFilter`: a yes/no list filter on one condition.
- `adopt`: lets the admin carry on with a row that a service created.
- `ReadableColumnsMixin`: amounts and dates of a changelist shown as the back office shows them.
"""

import datetime
from operator import attrgetter

from django.contrib import admin
from django.contrib.admin.utils import label_for_field, lookup_field
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.utils.html import format_html

from billing_site.money import display_amount


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable only. Subclasses list every shown field (and display method) in `fields`."""

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Related rows listed on the parent's page, never added, edited or deleted there."""

    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChangedFieldsOnlyMixin:
    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=form.changed_data)
        else:
            super().save_model(request, obj, form, change)


class YesNoFilter(admin.SimpleListFilter):
    """Subclasses set `title`, `parameter_name` and `condition()`."""

    def condition(self) -> Q:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition())
        if self.value() == "no":
            return queryset.exclude(self.condition())
        return queryset


def adopt(obj, created) -> None:
    """Turn the admin's unsaved `obj` into `created`, the row a service just made, so that what
    the admin does next (inlines, log entry, redirect) applies to that row."""
    obj.__dict__.update(created.__dict__)


class ReadableColumnsMixin:
    """A changelist's amounts and dates as the back office shows them, narrow enough for a
    1366-pixel screen: amounts "1,234,567.80" (never rounded), right-aligned, with the row's
    currency beside them; dates ISO ("2026-06-30"; a datetime's date in UTC).

    `money_columns` maps names of `list_display` (model fields or display methods) to the path of
    the row's currency ("currency", "account.currency"; None for none); `date_columns` lists
    date and datetime columns. Each keeps its heading and its sort. Its cells get the class
    `field-money_<name>` (or `field-date_<name>`), which backoffice/admin-columns.css aligns; the
    currency's relation must be in `list_select_related`. `list_display` itself is unchanged.
    """

    money_columns: dict[str, str | None] = {}
    date_columns: tuple[str, ...] = ()

    def get_list_display(self, request):
        columns = []
        for name in super().get_list_display(request):
            if name in self.money_columns:
                columns.append(self._column(name, "money", self._money(name)))
            elif name in self.date_columns:
                columns.append(self._column(name, "date", _iso))
            else:
                columns.append(name)
        return columns

    def _money(self, name: str):
        currency_path = self.money_columns[name]
        currency_of = attrgetter(currency_path) if currency_path else None

        def shown(value, row):
            amount = display_amount(value)
            if currency_of is None:
                return amount
            return format_html('{} <span class="currency">{}</span>', amount, currency_of(row))

        return shown

    def _column(self, name: str, kind: str, show):
        def column(row):
            _field, _attr, value = lookup_field(name, row, self)
            return self.get_empty_value_display() if value is None else show(value, row)

        column.__name__ = f"{kind}_{name}"
        column.short_description = label_for_field(name, self.model, self)
        column.admin_order_field = self._ordering(name)
        return column

    def _ordering(self, name: str):
        try:
            self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return getattr(getattr(self, name, None), "admin_order_field", None)
        return name


def _iso(value, row) -> str:
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.UTC).date()  # the time is on the row's own page
    return value.isoformat()
