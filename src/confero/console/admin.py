"""The organizer console, on Django admin. Tokens are shown by public prefix only: the plain text
exists once, when `confero token create` prints it.

What the console writes ends up in the API's answers, so it keeps the API's rules: no text XML
cannot carry, a user's last-modified moved by the database clock on every change (feeds with
`since` rely on it), and custom fields changed only where the rules of contract §7 are applied
(`confero customfields import`; the console shows them until its own pages do the same).
"""

from django import forms
from django.contrib import admin
from django.db.models.functions import Now

from confero.access.models import ApiCall, ApiProfile, ApiToken
from confero.api.params import EMAIL_RE
from confero.customfields.models import CustomField, CustomValue
from confero.errors import Conflict
from confero.events.models import Account, Event, Site
from confero.people.models import User, UserStatus
from confero.people.services import cancel_user, check_unique
from confero.xmltext import not_xml


class XmlTextForm(forms.ModelForm):
    """Refuses, naming the field, a text holding a character XML 1.0 cannot carry: the API's
    answers would carry it (the API refuses such values with 201)."""

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):  # add_error() takes the field out of data
            if isinstance(value, str) and (problem := not_xml(value)):
                self.add_error(name, problem)
        return data


class XmlTextAdmin(admin.ModelAdmin):
    form = XmlTextForm


# Superusers only, until the console's pages show each organizer only the accounts they belong
# to (Account.organizers): Django admin's model permissions are not per account, so a staff user
# granted "view user" would see the attendees of every account.
admin.site.has_permission = lambda request: (
    request.user.is_active and request.user.is_staff and request.user.is_superuser
)
admin.site.site_header = "Confero console"
admin.site.site_title = "Confero"
admin.site.index_title = "Events, sites and integrations"


@admin.register(Account)
class AccountAdmin(XmlTextAdmin):
    list_display = ("slug", "name", "created_at")
    search_fields = ("slug", "name")
    filter_horizontal = ("organizers",)


class SiteInline(admin.TabularInline):
    model = Site
    form = XmlTextForm
    extra = 0
    can_delete = False
    readonly_fields = ("environment",)


@admin.register(Event)
class EventAdmin(XmlTextAdmin):
    list_display = ("code", "name", "account", "start_date", "end_date", "time_zone")
    list_select_related = ("account",)
    search_fields = ("code", "name")
    readonly_fields = ("guid",)
    inlines = [SiteInline]


class TokenInline(admin.TabularInline):
    model = ApiToken
    form = XmlTextForm
    extra = 0
    can_delete = False
    fields = ("prefix", "label", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")

    def has_add_permission(self, request, obj=None):
        return False  # tokens are issued by `confero token create`, which shows them once


@admin.register(ApiProfile)
class ApiProfileAdmin(XmlTextAdmin):
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

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    """Shown, not changed: a plain admin form skips the rules of contract §7 (reserved codes,
    element names, a code once set, constraints only on profile fields, one Other per field, the
    type of a field holding values). Fields are created and changed with `confero customfields
    import` (docs/custom-fields.md), a code by a superuser with `confero customfields recode`."""

    list_display = ("code", "display_name", "element_name", "record_type", "field_type", "site")
    list_select_related = ("site__event",)
    list_filter = ("record_type", "field_type")
    inlines = [CustomValueInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class UserForm(XmlTextForm):
    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if len(email) > 254 or not EMAIL_RE.match(email):
            raise forms.ValidationError("an email address (as the API takes it)")
        return email

    def clean(self):
        """clientID unique per site, email among the site's active users (ignoring case), said
        as the API says it (213, 214). A field with an error here is left out of the model's
        constraint checks, which would name only the database constraint."""
        data = super().clean()
        site = data.get("site")
        if site is not None and not self.errors:
            active = data.get("status") == UserStatus.ACTIVE
            try:
                check_unique(
                    site,
                    email=data.get("email") if active else None,
                    client_id=data.get("client_id"),
                    exclude=self.instance if self.instance.pk else None,
                )
            except Conflict as exc:
                self.add_error("client_id" if exc.field == "clientID" else "email", exc.message)
        return data


@admin.register(User)
class UserAdmin(XmlTextAdmin):
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
    form = UserForm

    def has_delete_permission(self, request, obj=None):
        return False  # users are cancelled, never deleted

    def save_model(self, request, obj, form, change):
        """Created and last-modified from the database clock, as the API writes them: feeds
        with `since` find every change made here. A user cancelled here is cancelled as by
        cancelUser.do."""
        if change and "status" in form.changed_data and obj.status == UserStatus.CANCELLED:
            # First, as the stored user is still active: cancel_user locks the user's session
            # times before the user's row (decision 0017) and refuses one cancelled already.
            obj.status = UserStatus.ACTIVE
            cancel_user(obj)
        if not change:
            obj.created_at = obj.modified_at = Now()
        elif form.changed_data:
            obj.modified_at = Now()
        obj.save()
        obj.refresh_from_db(fields=["created_at", "modified_at"])
