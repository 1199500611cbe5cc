"""Manage › Settings › APIs › API profile: enabled, Account Level Access, the allow-list, and
the profile's tokens (created with a label and an optional expiry, shown once; revoked by
prefix). Writes go through confero.access.services and confero.access.tokens."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from confero.access.services import allow_networks, configure_profile, disallow_networks
from confero.access.tokens import issue_token, revoke_token
from confero.console.forms import ProfileForm, TokenForm
from confero.console.views.base import page, site_page
from confero.console.views.events import apis_crumbs
from confero.errors import ValidationFailed


def _profile_url(site) -> str:
    return reverse("console:profile", kwargs={"code": site.event.code, "env": site.environment})


def _render(request, site, *, form=None, token_form=None, issued=None, status=200):
    profile = request.scope.profile(site)
    if form is None:
        shown = "\n".join(profile.allowed_networks)
        form = ProfileForm(
            initial={
                "enabled": profile.enabled,
                "account_level_access": profile.account_level_access,
                "allowed_networks": shown,
                "shown_networks": shown,
            }
        )
    now = timezone.now()
    tokens = [
        {
            "token": token,
            "state": "revoked"
            if token.revoked_at
            else "expired"
            if token.expires_at and token.expires_at <= now
            else "active",
        }
        for token in request.scope.tokens(profile)
    ]
    event = site.event
    response = page(
        request,
        "console/profile.html",
        {
            "profile": profile,
            "form": form,
            "token_form": token_form or TokenForm(),
            "tokens": tokens,
            "issued": issued,
            "api_url": request.build_absolute_uri(site.api_base),
            "calls_url": reverse("console:calls", kwargs={"code": event.code})
            + f"?site={site.environment}",
        },
        event=event,
        site=site,
        section="settings",
        crumbs=(*apis_crumbs(event), (f"API profile ({site.get_environment_display()})", None)),
        status=status,
    )
    return response


@require_http_methods(["GET", "POST"])
@site_page
def profile(request: HttpRequest, site) -> HttpResponse:
    if request.method == "GET":
        return _render(request, site)
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _render(request, site, form=form, status=400)
    data = form.cleaned_data
    wanted, shown = data["allowed_networks"], data["shown_networks"]
    profile = request.scope.profile(site)
    try:
        with transaction.atomic():
            configure_profile(
                profile,
                enabled=data["enabled"],
                account_level_access=data["account_level_access"],
            )
            removed = [entry for entry in shown if entry not in wanted]
            still_there = [entry for entry in removed if entry in profile.allowed_networks]
            if still_there:
                disallow_networks(profile, still_there)
            allow_networks(profile, [entry for entry in wanted if entry not in shown])
    except ValidationFailed as exc:
        form.add_error("allowed_networks", exc.message)
        return _render(request, site, form=form, status=400)
    messages.success(request, f"API profile of {site} saved.")
    return redirect(_profile_url(site))


@never_cache  # the page holds the token: no cache may keep it
@require_POST
@site_page
def create_token(request: HttpRequest, site) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _render(request, site, token_form=form, status=400)
    issued = issue_token(
        request.scope.profile(site),
        label=form.cleaned_data["label"],
        expires_at=form.cleaned_data["expires"],
    )
    # Rendered, not redirected: the plain token must not pass through the session or a URL.
    return _render(request, site, issued=issued)


@require_POST
@site_page
def revoke(request: HttpRequest, site, prefix: str) -> HttpResponse:
    token = request.scope.token(request.scope.profile(site), prefix)
    revoke_token(token.prefix)
    messages.success(request, f"Token {token.prefix}… revoked: calls with it answer 101.")
    return redirect(_profile_url(site))
