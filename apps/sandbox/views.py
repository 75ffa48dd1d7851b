"""HTTP face of the Dexcom API v3 emulator, mounted at /emulator/ (so /emulator/v3/...).

Try it by hand with the demo client (settings.EMULATOR_CLIENTS) while `runserver 8010` runs:

  1. Open http://127.0.0.1:8010/emulator/v3/oauth2/login?client_id=dexweb-demo-client
     &redirect_uri=http://127.0.0.1:8010/accounts/dexcom/login/callback/&response_type=code
     &scope=offline_access&state=xyz
     pick a sandbox user, click Authorize, copy `code` from the address you land on.
     (Shortcut for steps 1-2: `manage.py sandbox_token --user SandboxUser1 --base-url
      http://127.0.0.1:8010/emulator` prints tokens and ready-made curl commands.)
  2. curl -s -X POST http://127.0.0.1:8010/emulator/v3/oauth2/token \\
       -d grant_type=authorization_code -d code=THE_CODE -d client_id=dexweb-demo-client \\
       -d client_secret=dexweb-demo-secret \\
       -d redirect_uri=http://127.0.0.1:8010/accounts/dexcom/login/callback/
  3. curl -s -H "Authorization: Bearer ACCESS_TOKEN" \\
       "http://127.0.0.1:8010/emulator/v3/users/self/egvs?startDate=2026-01-01T00:00:00&endDate=2026-01-02T00:00:00"
     (likewise alerts, calibrations, events, devices, dataRange[?lastSyncTime=...])
  4. curl -s -X POST .../emulator/v3/oauth2/token -d grant_type=refresh_token \\
       -d refresh_token=REFRESH_TOKEN -d client_id=dexweb-demo-client -d client_secret=dexweb-demo-secret
     gives a new pair; running it again with the same refresh token gives 400 invalid_grant.

Pages for people, staff only: /emulator/ (the sandbox users), /emulator/grants/ (revoke an app's
access), /emulator/faults/ (inject faults). The OAuth pages and the data API are open, as at Dexcom.
"""

import time
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.sandbox import dexcom_time, faults, ratelimit, services, truth
from apps.sandbox import records as dexcom_records
from apps.sandbox.models import Fault, Grant
from apps.sandbox.profiles import PROFILES_BY_KEY
from apps.sandbox.services import OAuthError

MAX_WINDOW = timedelta(days=30)
RECORD_TYPE_NAMES = {
    "egvs": "egv",
    "alerts": "alert",
    "calibrations": "calibration",
    "events": "event",
    "devices": "device",
    "dataRange": "dataRange",
}
WINDOWED = ("egvs", "alerts", "calibrations", "events")


class BadRequest(Exception):
    pass


# --- OAuth2 login and consent ---------------------------------------------------------------------


def _with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _redirect_uri_problem(redirect_uri: str) -> str | None:
    parts = urlsplit(redirect_uri or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "redirect_uri must be an absolute http(s) URL"
    if parts.fragment:
        return "redirect_uri must not contain a fragment"
    return None


def _login_error_page(request, message: str):
    return render(request, "sandbox/login_error.html", {"message": message}, status=400)


@never_cache
@require_http_methods(["GET", "POST"])
def oauth_login(request):
    """The consent page: pick a sandbox user, then Authorize (code + state) or Deny.

    A bad client_id or redirect_uri shows an error page (redirecting would hand an error to a
    site nobody registered); other problems go back to the client as ?error=...&state=...
    """
    params = request.GET if request.method == "GET" else request.POST
    client_id, redirect_uri, state = (
        params.get("client_id", ""),
        params.get("redirect_uri", ""),
        params.get("state"),
    )
    if services.client_secret_for(client_id) is None:
        return _login_error_page(request, f"Unknown client_id {client_id!r}.")
    if problem := _redirect_uri_problem(redirect_uri):
        return _login_error_page(request, problem + ".")
    if params.get("response_type") != "code":
        return redirect(_with_query(redirect_uri, error="unsupported_response_type", state=state or ""))
    if params.get("scope") != "offline_access":
        return redirect(_with_query(redirect_uri, error="invalid_scope", state=state or ""))
    if not state:
        return redirect(
            _with_query(redirect_uri, error="invalid_request", error_description="state is required")
        )
    users = services.ensure_sandbox_users()
    if request.method == "GET":
        return render(
            request, "sandbox/consent.html", {"params": params, "users": users, "client_id": client_id}
        )
    return _consent_decision(request, params, users)


def _consent_decision(request, params, users):
    redirect_uri, state, client_id = params["redirect_uri"], params["state"], params["client_id"]
    if params.get("decision") != "authorize":
        return HttpResponseRedirect(_with_query(redirect_uri, error="access_denied", state=state))
    chosen = params.get("sandbox_user", "")
    if chosen not in {user.key for user in users}:
        context = {"params": params, "users": users, "client_id": client_id, "error": "Pick a sandbox user."}
        return render(request, "sandbox/consent.html", context, status=400)
    code = services.authorization_code_for(
        sandbox_user_key=chosen, client_id=client_id, redirect_uri=redirect_uri
    )
    return HttpResponseRedirect(_with_query(redirect_uri, code=code, state=state))


# --- OAuth2 token -----------------------------------------------------------------------------------


def _oauth_error(error: OAuthError) -> JsonResponse:
    response = JsonResponse(
        {"error": error.error, "error_description": error.description}, status=error.status
    )
    response["Cache-Control"] = "no-store"
    return response


GRANT_TOKEN_FIELD = {"authorization_code": "code", "refresh_token": "refresh_token"}


def _grant_type_and_token(form) -> tuple[str, str]:
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type not in GRANT_TOKEN_FIELD:
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    return grant_type, form.get(GRANT_TOKEN_FIELD[grant_type], "")


def _exchange(form, grant_type: str, client_id: str, token: str) -> services.IssuedTokens:
    if grant_type == "authorization_code":
        return services.exchange_authorization_code(
            client_id=client_id, code=token, redirect_uri=form.get("redirect_uri", "")
        )
    return services.refresh_tokens(client_id=client_id, refresh_token=token)


@csrf_exempt
@require_POST
def oauth_token(request):
    """Exchange an authorization code or a refresh token (form-encoded, client secret in the body)."""
    form = request.POST
    try:
        grant_type, token = _grant_type_and_token(form)
        client_id = form.get("client_id", "")
        services.authenticate_client(client_id=client_id, client_secret=form.get("client_secret", ""))
        if retry_after := ratelimit.over_limit(client_id=client_id, now=timezone.now()):
            return _rate_limited(retry_after)
        if not token:
            raise OAuthError("invalid_request", f"{GRANT_TOKEN_FIELD[grant_type]} is required")
        grant = services.grant_for_token(grant_type, token)
        fault = faults.take(endpoint="token", sandbox_user_key=grant.sandbox_user.key if grant else None)
        if fault and (early := _fault_response(fault, grant, token_endpoint=True)):
            return early
        issued = _exchange(form, grant_type, client_id, token)
    except OAuthError as error:
        return _oauth_error(error)
    body = orjson.dumps(issued.as_response())
    if fault and fault.kind == "lost_answer":
        return _lose_token_answer(fault, body)
    if fault and fault.kind == "malformed_json":
        body = body[: len(body) // 2]
    return HttpResponse(body, content_type="application/json", headers={"Cache-Control": "no-store"})


def _lose_token_answer(fault: Fault, body: bytes) -> HttpResponse:
    """The pair is issued and the old refresh token spent; the client never learns the new one."""
    how = fault.params.get("how", "timeout")
    if how == "malformed":
        return HttpResponse(body[: len(body) // 2], content_type="application/json")
    if how == "bad_gateway":
        return HttpResponse("<html><body><h1>502 Bad Gateway</h1></body></html>", status=502)
    # The client has given up by the time this arrives, as if the connection had dropped.
    time.sleep(float(fault.params.get("seconds", 35)))
    return HttpResponse(body, content_type="application/json", headers={"Cache-Control": "no-store"})


# --- Faults shared by both APIs ------------------------------------------------------------------


def _rate_limited(retry_after: int) -> JsonResponse:
    response = JsonResponse(
        {"error": "rate_limit_exceeded", "error_description": "Too many requests; retry later"}, status=429
    )
    response["Retry-After"] = str(int(retry_after))
    return response


def _fault_response(fault: Fault, grant: Grant | None, *, token_endpoint: bool = False):
    """The response a fault replaces the real one with, or None when the call goes on."""
    params = fault.params
    if fault.kind == "rate_limit":
        return _rate_limited(params.get("retry_after", 60))
    if fault.kind == "server_error":
        return JsonResponse(
            {"error": "server_error", "error_description": "Internal server error"}, status=500
        )
    if fault.kind == "unavailable":
        response = HttpResponse(
            "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", status=503
        )
        if "retry_after" in params:
            response["Retry-After"] = str(int(params["retry_after"]))
        return response
    if fault.kind == "slow":
        time.sleep(float(params.get("seconds", 2)))
    if fault.kind == "forbidden":
        return JsonResponse(
            {"error": "forbidden", "error_description": "data access is not authorized for this user"},
            status=403,
        )
    if fault.kind == "revoked":
        if grant is not None:
            services.revoke_grant(grant_id=grant.pk)
        if token_endpoint:
            raise OAuthError("invalid_grant", "the user revoked this authorization")
        return _unauthorized("the user revoked this authorization")
    return None


# --- Data endpoints ------------------------------------------------------------------------------


def _unauthorized(description: str) -> JsonResponse:
    response = JsonResponse({"error": "invalid_token", "error_description": description}, status=401)
    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _bad_request(description: str) -> JsonResponse:
    return JsonResponse({"error": "invalid_request", "error_description": description}, status=400)


def _bearer_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _window(query) -> tuple[int, int]:
    """startDate/endDate as epoch seconds: both required, start before end, at most 30 days."""
    missing = [name for name in ("startDate", "endDate") if not query.get(name)]
    if missing:
        raise BadRequest(f"{' and '.join(missing)} required, as {dexcom_time.EXPECTED_FORMAT}")
    try:
        start = dexcom_time.parse_request_time(query["startDate"], name="startDate")
        end = dexcom_time.parse_request_time(query["endDate"], name="endDate")
    except dexcom_time.BadDate as error:
        raise BadRequest(str(error)) from None
    if start >= end:
        raise BadRequest("startDate must be before endDate")
    if end - start > MAX_WINDOW:
        raise BadRequest("The time window between startDate and endDate may be at most 30 days")
    return dexcom_time.to_epoch(start), dexcom_time.to_epoch(end)


def _payload(endpoint: str, grant: Grant, query) -> dict:
    key = grant.sandbox_user.key
    envelope = {
        "recordType": RECORD_TYPE_NAMES[endpoint],
        "recordVersion": "3.0",
        "userId": dexcom_records.user_id(sandbox_user_key=key, client_id=grant.client_id),
    }
    until = truth.visible_until()
    if endpoint == "dataRange":
        last_sync = None
        if query.get("lastSyncTime"):
            try:
                last_sync = dexcom_time.parse_request_time(query["lastSyncTime"], name="lastSyncTime")
            except dexcom_time.BadDate as error:
                raise BadRequest(str(error)) from None
        return envelope | truth.data_range(sandbox_user_key=key, last_sync_time=last_sync)
    # /devices takes no window (v3 returns all devices); like Dexcom we ignore one if sent.
    start, end = _window(query) if endpoint in WINDOWED else (0, 0)
    records = truth.records_between(
        sandbox_user_key=key, record_type=endpoint, start=start, end=end, until=until
    )
    return envelope | {"records": records}


@require_GET
def data_endpoint(request, endpoint: str):
    """GET /v3/users/self/{egvs,alerts,calibrations,events,devices,dataRange} with a Bearer token."""
    if endpoint not in RECORD_TYPE_NAMES:
        return JsonResponse(
            {"error": "not_found", "error_description": f"no endpoint {endpoint!r}"}, status=404
        )
    token = _bearer_token(request)
    grant = services.grant_for_access_token(token) if token else None
    if grant is None:
        return _unauthorized("missing, invalid, expired or revoked access token")
    if retry_after := ratelimit.over_limit(client_id=grant.client_id, now=timezone.now()):
        return _rate_limited(retry_after)
    fault = faults.take(endpoint=endpoint, sandbox_user_key=grant.sandbox_user.key)
    if fault and (early := _fault_response(fault, grant)):
        return early
    try:
        payload = _payload(endpoint, grant, request.GET)
    except BadRequest as error:
        return _bad_request(str(error))
    if fault and fault.kind == "bad_records" and "records" in payload:
        payload["records"] = faults.damage_records(
            payload["records"], record_type=endpoint, count=int(fault.params.get("count", 3))
        )
    body = orjson.dumps(payload)
    if fault and fault.kind == "malformed_json":
        body = body[: max(len(body) // 2, 1)]
    return HttpResponse(body, content_type="application/json")


# --- Pages for people: grants and faults (staff only: they revoke access and break the API) -----


@staff_member_required
@never_cache
@require_http_methods(["GET", "POST"])
def grants(request):
    """Every app authorization of the sandbox users, each with a Revoke button."""
    if request.method == "POST":
        grant = Grant.objects.select_related("sandbox_user").filter(pk=request.POST.get("grant_id")).first()
        if grant is None:
            messages.error(request, "No such authorization.")
        else:
            services.revoke_grant(grant_id=grant.pk)
            messages.success(request, f"Revoked {grant.client_id}'s access to {grant.sandbox_user.key}.")
        return redirect("sandbox:grants")
    rows = Grant.objects.select_related("sandbox_user").order_by("sandbox_user__key", "client_id")
    return render(request, "sandbox/grants.html", {"grants": rows})


@staff_member_required
@never_cache
@require_http_methods(["GET", "POST"])
def fault_panel(request):
    """Inject or clear faults by hand (for the demo); the same rows tests create with faults.inject."""
    if request.method == "POST":
        if request.POST.get("action") == "clear":
            faults.clear()
            messages.success(request, "All faults cleared.")
            return redirect("sandbox:faults")
        try:
            fault = faults.inject(**_fault_form(request.POST))
        except ValueError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Injected {fault}.")
        return redirect("sandbox:faults")
    context = {
        "faults": Fault.objects.all(),
        "kinds": Fault.KINDS,
        "endpoints": faults.ENDPOINTS,
        "users": [""] + list(PROFILES_BY_KEY),
    }
    return render(request, "sandbox/faults.html", context)


def _fault_form(form) -> dict:
    try:
        times = int(form["times"]) if form.get("times") else None
        params = {
            "kind": form.get("kind", ""),
            "endpoint": form.get("endpoint", "*"),
            "times": times,
            "sandbox_user_key": form.get("sandbox_user_key", ""),
        }
        if form.get("seconds"):
            params["seconds"] = float(form["seconds"])
        if form.get("retry_after"):
            params["retry_after"] = int(form["retry_after"])
        if form.get("count"):
            params["count"] = int(form["count"])
    except ValueError:
        raise ValueError("times, seconds, retry_after and count must be numbers") from None
    return params


@staff_member_required
@require_GET
def index(request):
    return render(request, "sandbox/index.html", {"users": services.ensure_sandbox_users()})
