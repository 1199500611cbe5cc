"""The organizer console, on Django admin. Tokens are shown by public prefix only: the plain text
exists once, when `confero token create` prints it."""

from django.contrib import admin

from confero.access.models import ApiCall, ApiProfile, ApiToken
from confero.customfields.models import CustomField, CustomValue
from confero.events.models import Account, Event, Site
from confero.people.models import User

admin.site.site_header = "Confero console"
admin.site.site_title = "Confero"
admin.site.index_title = "Events, sites and integrations"


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "created_at")
    search_fields = ("slug", "name")
    filter_horizontal = ("organizers",)


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    can_delete = False
    readonly_fields = ("environment",)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "account", "start_date", "end_date", "time_zone")
    list_select_related = ("account",)
    search_fields = ("code", "name")
    readonly_fields = ("guid",)
    inlines = [SiteInline]


class TokenInline(admin.TabularInline):
    model = ApiToken
    extra = 0
    can_delete = False
    fields = ("prefix", "label", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")

    def has_add_permission(self, request, obj=None):
        return False  # tokens are issued by `confero token create`, which shows them once


@admin.register(ApiProfile)
class ApiProfileAdmin(admin.ModelAdmin):
    list_display = (
        "site",
        "enabled",
        "account_level_access",
        "allowed_networks",
        "rate_limit_per_minute",
    )
    list_select_related = ("site__event",)
    readonly_fields = ("site",)
    inlines = [TokenInline]

    def has_add_permission(self, request):
        return False  # every site gets its profile when the event is created


@admin.register(ApiCall)
class ApiCallAdmin(admin.ModelAdmin):
    list_display = (
        "time",
        "site",
        "resource",
        "code",
        "http_status",
        "client_ip",
        "token_prefix",
        "event_param",
        "duration_ms",
    )
    list_filter = ("code", "resource")
    list_select_related = ("site__event",)
    date_hierarchy = "time"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CustomValueInline(admin.TabularInline):
    model = CustomValue
    extra = 0
    can_delete = False


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("code", "display_name", "element_name", "record_type", "field_type", "site")
    list_select_related = ("site__event",)
    list_filter = ("record_type", "field_type")
    inlines = [CustomValueInline]

    def get_readonly_fields(self, request, obj=None):
        # A code once set is changed only through the superuser path (confero customfields recode).
        return ("code", "element_name", "site", "record_type") if obj else ("element_name",)


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "first_name",
        "last_name",
        "status",
        "client_id",
        "site",
        "modified_at",
    )
    list_select_related = ("site__event",)
    list_filter = ("status",)
    search_fields = ("email", "last_name", "client_id", "user_ref")
    readonly_fields = ("user_key", "user_ref", "created_at", "modified_at")

    def has_delete_permission(self, request, obj=None):
        return False  # users are cancelled, never deleted
