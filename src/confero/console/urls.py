"""The console's URLs, under /manage/ (confero.urls). Per-site pages carry the environment
(`uat` or `production`) after the event code."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from confero.console.views import calls, copy, events, fields, imports, profiles, users

app_name = "console"

SITE = "events/<str:code>/<str:env>/"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="console/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="console/password.html",
            success_url=reverse_lazy("console:password-done"),
        ),
        name="password",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="console/password_done.html"),
        name="password-done",
    ),
    path("", events.events, name="events"),
    path("events/<str:code>/", events.event, name="event"),
    path("events/<str:code>/settings/", events.settings, name="settings"),
    path("events/<str:code>/settings/apis/", events.apis, name="apis"),
    path("events/<str:code>/settings/apis/<str:env>/", profiles.profile, name="profile"),
    path(
        "events/<str:code>/settings/apis/<str:env>/tokens/",
        profiles.create_token,
        name="create-token",
    ),
    path(
        "events/<str:code>/settings/apis/<str:env>/tokens/<str:prefix>/revoke/",
        profiles.revoke,
        name="revoke-token",
    ),
    path("events/<str:code>/settings/copy/", copy.copy_configuration, name="copy"),
    path("events/<str:code>/calls/", calls.calls, name="calls"),
    path(SITE + "fields/", fields.fields, name="fields"),
    path(SITE + "fields/new/", fields.new_field, name="new-field"),
    path(SITE + "fields/<int:pk>/", fields.field, name="field"),
    path(SITE + "fields/<int:pk>/delete/", fields.delete_field, name="delete-field"),
    path(SITE + "fields/<int:pk>/code/", fields.recode, name="recode-field"),
    path(SITE + "fields/<int:pk>/values/", fields.new_value, name="new-value"),
    path(SITE + "fields/<int:pk>/values/<int:value>/", fields.change_value, name="value"),
    path(
        SITE + "fields/<int:pk>/values/<int:value>/delete/",
        fields.delete_value,
        name="delete-value",
    ),
    path(SITE + "users/", users.users, name="users"),
    path(SITE + "users/new/", users.new_user, name="new-user"),
    path(SITE + "users/export.csv", imports.export, name="export-users"),
    path(SITE + "users/import/", imports.upload, name="import-users"),
    path(SITE + "users/import/<uuid:pk>/", imports.preview, name="import"),
    path(SITE + "users/import/<uuid:pk>/rejected.csv", imports.rejected, name="import-rejected"),
    path(SITE + "users/<str:ref>/", users.user, name="user"),
    path(SITE + "users/<str:ref>/edit/", users.edit_user, name="edit-user"),
    path(SITE + "users/<str:ref>/cancel/", users.cancel, name="cancel-user"),
]
