"""Django admin at /admin/: for superusers and operators only. Planners work in the console at
/manage/ (confero.console.views), which shows each planner their accounts' events only; the
admin links to it. Tokens are shown by public prefix only and created in the console (or by
`confero token create`), where the plain text is shown once.

What the admin writes ends up in the API's answers, so it keeps the API's rules: no text XML
cannot carry, a user's last-modified moved by the database clock on every change (feeds with
`since` rely on it), allow-lists validated entry by entry, and custom fields changed only where
the rules of contract §7 are applied (the console's pages, `confero customfields import`).
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as AuthUserAdmin
from django.contrib.auth.models import User as AuthUser
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from confero.access.models import ApiCall, ApiProfile, ApiToken
from confero.access.networks import normalise_networks
from confero.access.services import configure_profile
from confero.api.codes import CODES
from confero.api.params import EMAIL_RE
from confero.console.models import Planner
from confero.customfields.models import Answer, CustomField, CustomValue
from confero.errors import Conflict, ValidationFailed
from confero.events.models import Account, Event, Site
from confero.people.models import User, UserStatus
from confero.people.services import add_user, cancel_user, check_unique, update_user
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


# Superusers only: Django admin's model permissions are not per account, so a staff user granted
# "view user" would see the attendees of every account. Planners use /manage/, scoped by account.
admin.site.has_permission = lambda request: (
    request.user.is_active and request.user.is_staff and request.user.is_superuser
)
admin.site.site_header = "Confero administration"
admin.site.site_title = "Confero administration"
admin.site.index_title = "Operators only — planners work in the console at /manage/"
admin.site.site_url = "/manage/"  # "View site": the planners' console


def _console_profile_url(site: Site) -> str:
    return reverse("console:profile", kwargs={"code": site.event.code, "env": site.environment})


# The console's logins, under their own name: two sections both called "Users" (Django's and the
# attendees of confero.people) told an operator nothing.
admin.site.unregister(AuthUser)


@admin.register(Planner)
class PlannerAdmin(AuthUserAdmin):
    list_display = ("username", "email", "is_active", "is_superuser", "accounts", "last_login")
    list_filter = ("is_active", "is_superuser")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("confero_accounts")

    @admin.display(description="accounts")
    def accounts(self, obj) -> str:
        return ", ".join(account.slug for account in obj.confero_accounts.all())


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
    readonly_fields = ("guid", "api_urls")
    inlines = [SiteInline]

    @admin.display(description="API URLs")
    def api_urls(self, obj: Event) -> str:
        if obj.pk is None:
            return "–"
        return format_html_join(
            "",
            '<p>{}: <code>{}</code> · <a href="{}">API profile in the console</a></p>',
            (
                (site.get_environment_display(), site.api_base, _console_profile_url(site))
                for site in obj.sites.order_by("-environment")
            ),
        )


class TokenInline(admin.TabularInline):
    model = ApiToken
    form = XmlTextForm
    extra = 0
    can_delete = False
    fields = ("prefix", "label", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")

    def has_add_permission(self, request, obj=None):
        return False  # created in the console's API profile page, which shows them once


class ProfileForm(XmlTextForm):
    """The allow-list one entry per line, each validated (not a JSON text box)."""

    allowed_networks = forms.CharField(
        required=False,
        label="IP allow-list",
        widget=forms.Textarea(attrs={"rows": 5, "cols": 40}),
        help_text="One IPv4/IPv6 address or CIDR range per line. Empty: nobody may call (103).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_networks"] = "\n".join(self.instance.allowed_networks)

    def clean_allowed_networks(self) -> list[str]:
        lines = [
            line for line in self.cleaned_data["allowed_networks"].splitlines() if line.strip()
        ]
        try:
            return normalise_networks(lines)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(ApiProfile)
class ApiProfileAdmin(XmlTextAdmin):
    form = ProfileForm
    fields = (
        "site",
        "tokens_note",
        "enabled",
        "account_level_access",
        "allowed_networks",
        "rate_limit_per_minute",
    )
    list_display = (
        "site",
        "enabled",
        "account_level_access",
        "allow_list",
        "rate_limit_per_minute",
    )
    list_select_related = ("site__event",)
    readonly_fields = ("site", "tokens_note")
    inlines = [TokenInline]

    def has_add_permission(self, request):
        return False  # every site gets its profile when the event is created

    @admin.display(description="allow-list")
    def allow_list(self, obj: ApiProfile) -> str:
        return ", ".join(obj.allowed_networks) or "nobody"

    @admin.display(description="tokens")
    def tokens_note(self, obj: ApiProfile) -> str:
        return format_html(
            'Create and revoke tokens on the <a href="{}">API profile page of the console</a> '
            "(a new token is shown once), or with <code>confero token create --event {} "
            "--site {}</code>.",
            _console_profile_url(obj.site),
            obj.site.event.code,
            obj.site.environment,
        )

    def save_model(self, request, obj, form, change):
        """Through the service, as the console and the CLI write it."""
        configure_profile(
            obj,
            enabled=obj.enabled,
            account_level_access=obj.account_level_access,
            allowed_networks=form.cleaned_data["allowed_networks"],
            rate_limit_per_minute=obj.rate_limit_per_minute or 0,
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Shown by public prefix; created in the console, where the plain text is shown once."""

    list_display = ("prefix", "label", "profile", "created_at", "last_used_at", "expires_at",
                    "revoked_at")  # fmt: skip
    list_select_related = ("profile__site__event",)
    search_fields = ("prefix", "label")
    readonly_fields = (
        "prefix",
        "profile",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    fields = (*readonly_fields, "label")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: the call log names tokens by prefix


@admin.register(ApiCall)
class ApiCallAdmin(admin.ModelAdmin):
    # Few, narrow columns: the list is read at 1280 px. The console's call log has more filters.
    list_display = ("when", "site", "resource", "code_and_meaning", "client_ip", "token_prefix")
    list_filter = ("code", "resource")
    list_select_related = ("site__event",)
    search_fields = ("client_ip", "token_prefix")
    date_hierarchy = "time"

    @admin.display(description="time (UTC)", ordering="time")
    def when(self, obj: ApiCall) -> str:
        return obj.time.strftime("%Y-%m-%d %H:%M:%S.") + f"{obj.time.microsecond // 1000:03d}"

    @admin.display(description="code", ordering="code")
    def code_and_meaning(self, obj: ApiCall) -> str:
        meaning = CODES[obj.code].meaning if obj.code in CODES else ""
        return format_html("<strong>{}</strong> {}", obj.code, meaning)

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
    # The value ID is the custom value ID the API returns (rule 4). Django hides a column named
    # after the primary key in inlines: shown under its own name.
    fields = ("value_id", "code", "label", "is_other", "constraint", "position")
    readonly_fields = ("value_id",)

    @admin.display(description="value ID")
    def value_id(self, obj: CustomValue) -> int:
        return obj.pk

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

    def has_delete_permission(self, request, obj=None):
        return False  # the console deletes a field only while no record holds it


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
        site = data.get("site") or (self.instance.site if self.instance.pk else None)
        if site is not None and not self.errors:
            was = self.instance.status if self.instance.pk else UserStatus.ACTIVE
            if was == UserStatus.CANCELLED and data.get("status") == UserStatus.ACTIVE:
                self.add_error("status", "a cancelled user stays cancelled, as in the API")
                return data
            active = was == UserStatus.ACTIVE and data.get("status", was) == UserStatus.ACTIVE
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
    readonly_fields = ("user_key", "user_ref", "created_at", "modified_at", "custom_values")
    form = UserForm

    @admin.display(description="custom values")
    def custom_values(self, obj: User) -> str:
        """What the user holds, field by field (changed in the console, with the API's rules)."""
        if obj.pk is None:
            return "–"
        answers = (
            Answer.objects.filter(record_type="user", record_id=obj.pk)
            .select_related("field", "value")
            .order_by("field__position", "field_id", "id")
        )
        shown = [
            (
                answer.field.display_name,
                answer.field.code,
                (answer.value.label if answer.value_id else "")
                + (f" “{answer.text}”" if answer.text else ""),
            )
            for answer in answers
        ]
        if not shown:
            return "none"
        return format_html_join("", "<p>{} <code>{}</code>: {}</p>", shown)

    def has_delete_permission(self, request, obj=None):
        return False  # users are cancelled, never deleted

    def get_readonly_fields(self, request, obj=None):
        # A user stays on the site it was made on, and is made active.
        fixed = ("site",) if obj is not None else ("status",)
        return (*self.readonly_fields, *fixed)

    actions = ["cancel_users"]

    @admin.action(description="Cancel the selected users (as cancelUser.do)")
    def cancel_users(self, request, queryset):
        for user in queryset.filter(status=UserStatus.ACTIVE).select_related("site"):
            cancel_user(user)

    def save_model(self, request, obj, form, change):
        """Through the services, as the console, the CLI and the API write: created and
        last-modified from the database clock, uniqueness as the API says it."""
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name not in ("site", "status")
        }
        if not change:
            obj.pk = add_user(form.cleaned_data["site"], fields=fields).pk
            return
        user = User.objects.select_related("site").get(pk=obj.pk)
        if "status" in form.changed_data:  # to cancelled: UserForm refuses anything else
            # First: cancel_user locks the user's session times before the user's row, which
            # update_user's write would lock (decision 0020).
            user = cancel_user(user)
        update_user(user, fields=fields)
