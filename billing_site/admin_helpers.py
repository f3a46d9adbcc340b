"""Pieces shared by the apps' admin modules. No domain rules: those stay in the services.

- `ReadOnlyAdmin`, `ReadOnlyInline`: rows a service writes, shown for reference only.
- `ChangedFieldsOnlyMixin`: an edit writes only the fields the form changed, so a balance loaded
  with the page is never written back over one the money service changed meanwhile.
- `YesNoFilter`: a yes/no list filter on one condition.
- `adopt`: lets the admin carry on with a row that a service created.
"""

from django.contrib import admin
from django.db.models import Q


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
