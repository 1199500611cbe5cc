from django.contrib import admin
from django.urls import include, path, re_path

from confero.api import views as api_views
from confero.api.pipeline import api_view

# Event codes are [a-z0-9-]; anything else under …/api/ still gets an XML answer (code 122).
CODE = r"(?P<code>[A-Za-z0-9_.-]{1,60})"
RESOURCE = r"(?P<name>[A-Za-z][A-Za-z0-9_]{0,59})\.do"

urlpatterns = [
    path("health", api_views.health, name="health"),
    path("docs/api", api_views.api_reference, name="api-reference"),
    path("docs/api/codes", api_views.code_table, name="api-codes"),
    path("docs/schema/<str:name>", api_views.schema, name="api-schema"),
    path("admin/", admin.site.urls),
    path("manage/", include("confero.console.urls")),
    re_path(rf"^uat/{CODE}/api/{RESOURCE}$", api_view, {"environment": "uat"}),
    re_path(rf"^{CODE}/api/{RESOURCE}$", api_view, {"environment": "production"}),
    # `/CODE/api` without a slash too: CommonMiddleware would otherwise redirect it (HTML).
    re_path(rf"^uat/{CODE}/api(?:/.*)?$", api_view, {"environment": "uat", "name": ""}),
    re_path(rf"^{CODE}/api(?:/.*)?$", api_view, {"environment": "production", "name": ""}),
    path("", api_views.home, name="home"),
]

handler400 = "confero.api.views.bad_request"
handler403 = "confero.api.views.forbidden"
handler404 = "confero.api.views.not_found"
handler500 = "confero.api.views.server_error"
