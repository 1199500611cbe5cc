"""Pages around the API: health check, the generated reference, the XML Schemas, error pages."""

from pathlib import Path

from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from confero.api import codes, reference
from confero.api.codes import CODES
from confero.api.render import XML_CONTENT_TYPE
from confero.api.responses import error_body

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 when this process can reach the database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def api_reference(request: HttpRequest) -> HttpResponse:
    items = [
        {"resource": r, "flags": reference.flags(r), "params": reference.param_rows(r)}
        for r in reference.resources()
    ]
    return render(request, "api/reference.html", {"resources": items, "codes": CODES.values()})


def code_table(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "codes": [
                {"code": c.number, "http": c.http_status, "meaning": c.meaning}
                for c in CODES.values()
            ]
        }
    )


def schema(request: HttpRequest, name: str) -> FileResponse:
    path = SCHEMA_DIR / name
    if "/" in name or not name.endswith(".xsd") or not path.is_file():
        raise Http404(name)
    return FileResponse(path.open("rb"), content_type="application/xml")


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "Confero is running.\n\nOrganizer console: /manage/\nAPI reference: /docs/api\n"
        "API: POST /CODE/api/NAME.do (Production), POST /uat/CODE/api/NAME.do (UAT)\n",
        content_type="text/plain; charset=utf-8",
    )


def _is_api_path(request: HttpRequest) -> bool:
    return "/api/" in request.path.lower()


def _api_error(code: int, message: str) -> HttpResponse:
    response = HttpResponse(
        error_body(code, message), status=codes.http_status(code), content_type=XML_CONTENT_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api_path(request):
        return _api_error(codes.PARAM_INVALID, "bad request")
    return HttpResponse("Bad request\n", status=400, content_type="text/plain; charset=utf-8")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponse("Forbidden\n", status=403, content_type="text/plain; charset=utf-8")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api_path(request):
        return _api_error(codes.UNKNOWN_RESOURCE, "unknown resource")
    return HttpResponse("Not found\n", status=404, content_type="text/plain; charset=utf-8")


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api_path(request):
        return _api_error(codes.INTERNAL_ERROR, "Internal error")
    return HttpResponse("Internal error\n", status=500, content_type="text/plain; charset=utf-8")
