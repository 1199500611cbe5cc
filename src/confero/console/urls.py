"""The console's URLs, under /manage/ (confero.urls). Per-site pages carry the environment
(`uat` or `production`) after the event code."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from confero.console.views import (
    calls,
    catalogue,
    copy,
    events,
    exhibitors,
    fields,
    imports,
    orders,
    profiles,
    sessionparts,
    sessions,
    sessiontimes,
    users,
)

app_name = "console"

SITE = "events/<str:code>/<str:env>/"
SESSION = SITE + "sessions/<int:pk>/"
TIME = SESSION + "times/<int:time>/"
EXHIBITOR = SITE + "exhibitors/<int:pk>/"

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
    path(SITE + "sessions/", sessions.sessions, name="sessions"),
    path(SITE + "sessions/new/", sessions.new_session, name="new-session"),
    path(SESSION, sessions.session, name="session"),
    path(SESSION + "edit/", sessions.edit_session, name="edit-session"),
    path(SESSION + "cancel/", sessions.cancel_session, name="cancel-session"),
    path(SESSION + "reactivate/", sessions.reactivate_session, name="reactivate-session"),
    path(SESSION + "speakers/", sessionparts.speakers, name="session-speakers"),
    path(SESSION + "files/", sessionparts.files, name="session-files"),
    path(SESSION + "times/new/", sessiontimes.new_time, name="new-time"),
    path(TIME, sessiontimes.time, name="time"),
    path(TIME + "edit/", sessiontimes.edit_time, name="edit-time"),
    path(TIME + "cancel/", sessiontimes.cancel_time, name="cancel-time"),
    path(TIME + "reactivate/", sessiontimes.reactivate_time, name="reactivate-time"),
    path(TIME + "unschedule/<str:ref>/", sessiontimes.unschedule, name="unschedule"),
    path(SITE + "exhibitors/", exhibitors.exhibitors, name="exhibitors"),
    path(SITE + "exhibitors/new/", exhibitors.new_exhibitor, name="new-exhibitor"),
    path(EXHIBITOR, exhibitors.exhibitor, name="exhibitor"),
    path(EXHIBITOR + "edit/", exhibitors.edit_exhibitor, name="edit-exhibitor"),
    path(EXHIBITOR + "cancel/", exhibitors.cancel_exhibitor, name="cancel-exhibitor"),
    path(EXHIBITOR + "reactivate/", exhibitors.reactivate_exhibitor, name="reactivate-exhibitor"),
    path(EXHIBITOR + "staff/", exhibitors.staff, name="exhibitor-staff"),
    path(EXHIBITOR + "files/", exhibitors.files, name="exhibitor-files"),
    path(SITE + "orders/", orders.orders, name="orders"),
    path(SITE + "orders/catalogue/", catalogue.catalogue, name="catalogue"),
    path(SITE + "orders/catalogue/types/", catalogue.new_type, name="new-registration-type"),
    path(SITE + "orders/catalogue/packages/", catalogue.new_package, name="new-package"),
    path(SITE + "orders/catalogue/regcodes/", catalogue.new_regcode, name="new-regcode"),
]
