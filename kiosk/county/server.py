"""The county hub's HTTP API (FastAPI). `create_app(hub)` builds the app; `serve(...)` runs it.

Device endpoints (/v1): every terminal request except registration is signed
(kiosk.protocol.sign_request): the hub refuses unknown or revoked devices, bad signatures, clocks
outside the replay window and any nonce seen before. Errors are JSON: {"error": stable code,
"message": plain Chinese, "detail"}. Everything else (status page, review, staff audit, /api,
/openapi.json) needs a staff login (session cookie; forms carry a CSRF token), except /health.
Registration, login and device endpoints are rate limited (429 with Retry-After).
"""
from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kiosk import protocol as P

from .auth import Limits, role_at_least
from .db import Device, HubDB, HubError, StaffUser
from . import figures as figures_mod
from .page import (
    due_workbook,
    figures_workbook,
    render_audit_page,
    render_due_page,
    render_enrolments_page,
    render_fallbacks_page,
    render_figures_page,
    render_login,
    render_receipt_page,
    render_review_page,
    render_status_page,
)
from kiosk.county.texts import text
from kiosk.core.messages import message

SESSION_COOKIE = "kiosk_hub_session"
LOGIN_CSRF_COOKIE = "kiosk_hub_login"

MSG_SERVER_ERROR = text("server_internal_error")


class BodyLimit:
    """Pure ASGI guard: refuse bodies over the limit before they are read into memory."""

    def __init__(self, app, limit: int = P.MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                return await _too_large(send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send) -> None:
    body = P.ErrorBody(error="body_too_large",
                       message=text("server_too_large", mb=P.MAX_BODY_BYTES // (1024 * 1024))
                       ).model_dump_json().encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _error(status: int, code: str, message: str, detail: str = "") -> JSONResponse:
    return JSONResponse(P.ErrorBody(error=code, message=message, detail=detail).model_dump(), status_code=status)


class RateLimited(HubError):
    def __init__(self, retry_after: float):
        super().__init__("rate_limited", text("server_rate_limited"), 429)
        self.retry_after = max(1, int(retry_after + 0.999))


class _LoginRequired(Exception):
    def __init__(self, html: bool, next_url: str = "/"):
        self.html, self.next_url = html, next_url


class _Forbidden(Exception):
    pass


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


def _safe_next(url: str) -> str:
    """Only a path on this hub (no scheme, no //host): no open redirect after login."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/"


def create_app(hub: HubDB, limits: Limits | None = None, secure_cookies: bool = False) -> FastAPI:
    """`secure_cookies`: set when the hub is reached over https (its own TLS or a TLS proxy)."""
    limits = limits or Limits()
    app = FastAPI(title=text("server_title"), version=str(P.PROTOCOL_VERSION),
                  description="Village Certification Kiosk county hub: device registration, record push, "
                              "roster/template pull. All /v1 calls except registration are Ed25519-signed.",
                  docs_url=None, redoc_url=None, openapi_url=None)  # the schema: /openapi.json after login

    @app.middleware("http")
    async def _protocol_header(request, call_next):
        """v5: every answer says which protocol this hub speaks (terminals add v5 fields only then)."""
        response = await call_next(request)
        response.headers[P.H_PROTOCOL] = str(P.PROTOCOL_VERSION)
        return response

    @app.exception_handler(HubError)
    async def _hub_error(_request, e: HubError):
        resp = _error(e.status, e.code, e.message, e.detail)
        if isinstance(e, RateLimited):
            resp.headers["Retry-After"] = str(e.retry_after)
        return resp

    @app.exception_handler(P.ProtocolError)
    async def _protocol_error(_request, e: P.ProtocolError):
        return _error(400, e.code, e.message, e.detail)

    @app.exception_handler(_LoginRequired)
    async def _login_required(_request, e: _LoginRequired):
        if e.html:
            return RedirectResponse("/login?" + _qs(next=e.next_url), status_code=303)
        return _error(401, "login_required", text("server_login_required"))

    @app.exception_handler(_Forbidden)
    async def _forbidden(_request, _e):
        return _error(403, "forbidden", text("server_forbidden"))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request, e: RequestValidationError):
        errs = e.errors()
        unknown = [".".join(str(x) for x in err["loc"][1:]) for err in errs if err.get("type") == "extra_forbidden"]
        if unknown:
            return _error(422, "unknown_field", text("server_unknown_field", fields=message("protocol_list_separator").join(unknown)))
        where = message("protocol_list_separator").join(".".join(str(x) for x in err["loc"][1:]) or "body" for err in errs[:5])
        return _error(422, "bad_request", text("server_bad_request", where=where), str(errs)[:500])

    @app.exception_handler(Exception)
    async def _crash(_request, e: Exception):
        return _error(500, "server_error", MSG_SERVER_ERROR, type(e).__name__)

    def limit(limiter, key: str) -> None:
        wait = limiter.take(key)
        if wait:
            raise RateLimited(wait)

    async def device_rate(request: Request) -> None:
        limit(limits.device, _client(request))

    async def device(request: Request) -> Device:
        limit(limits.device, _client(request))
        h = request.headers
        device_id, ts, nonce, sig = (h.get(P.H_DEVICE), h.get(P.H_TIMESTAMP), h.get(P.H_NONCE), h.get(P.H_SIGNATURE))
        if not (device_id and ts and nonce and sig):
            raise HubError("unsigned", text("server_unsigned"), 401)
        body = await request.body()
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.scope.get("query_string"):
            path += "?" + request.scope["query_string"].decode("latin-1")
        message = P.signing_message(request.method, path, ts, nonce, body)
        return await run_in_threadpool(hub.authenticate, device_id, ts, nonce, sig, message, hub.clock.timestamp())

    @app.get("/health", include_in_schema=False)
    def health() -> dict:
        """For load balancers and monitoring: says only that the hub answers."""
        return {"ok": True}

    @app.get(P.API + "/ping", dependencies=[Depends(device_rate)])
    def ping() -> dict:
        """Liveness and the hub's clock (terminals correct their clock offset from it)."""
        return {"ok": True, "server_time": hub.clock.timestamp(), "county": hub.county, "protocol": P.PROTOCOL_VERSION}

    @app.post(P.API + "/devices/register", response_model=P.RegisterResponse,
              responses={403: {"model": P.ErrorBody}, 401: {"model": P.ErrorBody}})
    def register(req: P.RegisterRequest, request: Request) -> P.RegisterResponse:
        """One-time registration with a provisioning code from `kiosk-county provision`."""
        limit(limits.register, _client(request))
        return hub.register(req)

    @app.post(P.API + "/records", response_model=P.PushResponse,
              responses={401: {"model": P.ErrorBody}, 409: {"model": P.ErrorBody}, 413: {"model": P.ErrorBody}})
    def push(req: P.PushRequest, dev: Device = Depends(device)) -> P.PushResponse:
        """Store each record once (by uuid); one acknowledgement per record."""
        return P.PushResponse(acks=hub.store_records(dev.id, req.records, via="network", device_clock=req.device_clock))

    @app.get(P.API + "/roster", response_model=P.RosterPage, responses={401: {"model": P.ErrorBody}})
    def roster(since: int = Query(0, ge=0), limit: int = Query(P.MAX_PULL, ge=1, le=P.MAX_PULL),
               dev: Device = Depends(device)) -> P.RosterPage:
        """Residents changed since the cursor (status, data comparison, certifications), and the cycle policy."""
        return hub.roster_page(dev, since, limit)

    @app.get(P.API + "/templates", response_model=P.TemplatePage, responses={401: {"model": P.ErrorBody}})
    def templates(since: int = Query(0, ge=0), limit: int = Query(200, ge=1, le=500),
                  dev: Device = Depends(device)) -> P.TemplatePage:
        """County-enrolled templates changed since the cursor, each sealed for the requesting device."""
        return hub.template_page(dev, since, limit)

    @app.get(P.API + "/fallback-decisions", response_model=P.FallbackDecisionPage,
             responses={401: {"model": P.ErrorBody}})
    def fallback_decisions(since: int = Query(0, ge=0), limit: int = Query(P.MAX_PULL, ge=1, le=P.MAX_PULL),
                           dev: Device = Depends(device)) -> P.FallbackDecisionPage:
        """County decisions on this device's fallbacks (certification without a face) since the cursor (v3)."""
        return hub.fallback_decisions(dev, since, limit)

    @app.get(P.API + "/operators", response_model=P.OperatorPage, responses={401: {"model": P.ErrorBody}})
    def county_operators(since: int = Query(0, ge=0), limit: int = Query(P.MAX_PULL, ge=1, le=P.MAX_PULL),
                         dev: Device = Depends(device)) -> P.OperatorPage:
        """Terminal operators the county sends down (name, role, PIN hash; never a PIN) since the cursor (v4)."""
        return hub.operator_page(dev, since, limit)

    @app.post(P.API + P.HEARTBEAT_PATH, response_model=P.HeartbeatAck, responses={401: {"model": P.ErrorBody}})
    def heartbeat(req: P.Heartbeat, dev: Device = Depends(device)) -> P.HeartbeatAck:
        """A terminal's health (issue 14): self-test states, version, disk, queue; the latest is kept."""
        return hub.record_heartbeat(dev.id, req)

    # ------------------------------------------------------------------ staff pages and API
    def staff(needed: str = "viewer", html: bool = True):
        async def dep(request: Request) -> tuple[StaffUser, str]:
            found = await run_in_threadpool(hub.session, request.cookies.get(SESSION_COOKIE))
            if found is None:
                target = request.url.path + (("?" + request.url.query) if request.url.query else "")
                raise _LoginRequired(html, target)
            if not role_at_least(found[0].role, needed):
                raise _Forbidden()
            return found
        return dep

    async def form(request: Request) -> dict[str, str]:
        body = (await request.body()).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}

    def check_csrf(expected: str, got: str | None) -> None:
        if not got or not hmac.compare_digest(expected, got):
            raise HubError("csrf", text("server_csrf"), 403)

    def log(user: str, action: str, target: str, request: Request) -> None:
        hub.log_action(user, action, target, _client(request))

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(next: str = "/") -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        resp = HTMLResponse(render_login(hub.county, token, next_url=_safe_next(next)))
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies,
                        max_age=3600)
        return resp

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        f = await form(request)
        limit(limits.login, _client(request))
        check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), f.get("csrf"))
        name = f.get("user", "")[:64]
        limit(limits.login_user, name.lower())
        user = await run_in_threadpool(hub.check_login, name, f.get("password", ""))
        if user is None:
            await run_in_threadpool(hub.log_action, name or "?", "login_failed", "", _client(request))
            token = secrets.token_urlsafe(24)
            resp = HTMLResponse(render_login(hub.county, token, text("server_login_failed"), _safe_next(f.get("next", "/"))),
                                status_code=401)
            resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies,
                            max_age=3600)
            return resp
        token, _csrf = await run_in_threadpool(hub.open_session, user.name)
        await run_in_threadpool(hub.log_action, user.name, "login", "", _client(request))
        done = RedirectResponse(_safe_next(f.get("next", "/")), status_code=303)
        done.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies,
                        max_age=8 * 3600)
        done.delete_cookie(LOGIN_CSRF_COOKIE)
        return done

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request, who=Depends(staff())):
        check_csrf(who[1], (await form(request)).get("csrf"))
        await run_in_threadpool(hub.close_session, request.cookies.get(SESSION_COOKIE, ""))
        await run_in_threadpool(log, who[0].name, "logout", "", request)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def status_page(request: Request, page: int = Query(1, ge=1, le=100000), village: str | None = None,
                    after: str | None = Query(None, max_length=18), who=Depends(staff())) -> str:
        user, csrf = who
        log(user.name, "view_status", f"page={page} after={after or ''} village={village or ''}", request)
        summary = hub.summary(page=page, village=village or None, after=after)
        summary["health"] = hub.device_health()  # issue 14: heartbeats, silent kiosks
        summary["silent_min"] = hub.heartbeat_silent_min
        return render_status_page(hub.county, summary, hub.clock.tz, user.name, user.role, csrf)

    @app.get("/review", response_class=HTMLResponse, include_in_schema=False)
    def review_page(request: Request, who=Depends(staff())) -> str:
        user, csrf = who
        log(user.name, "view_review", "", request)
        return render_review_page(hub.suspect_records(), hub.clock.tz, user.name, user.role, csrf)

    @app.post("/review", include_in_schema=False)
    async def review(request: Request, who=Depends(staff("operator"))):
        user, csrf = who
        f = await form(request)
        check_csrf(csrf, f.get("csrf"))
        device_id, _, uuid = f.get("record", "").partition(":")
        decision = f.get("decision", "")
        await run_in_threadpool(hub.review_record, device_id, uuid, decision, user.name)
        await run_in_threadpool(log, user.name, "review_" + decision, f"{device_id}:{uuid}", request)
        return RedirectResponse("/review", status_code=303)

    @app.get("/fallbacks", response_class=HTMLResponse, include_in_schema=False)
    def fallbacks_page(request: Request, who=Depends(staff("operator"))) -> str:
        user, csrf = who
        log(user.name, "view_fallbacks", "", request)
        return render_fallbacks_page(hub.fallback_records(pending_only=True), hub.clock.tz, user.name, user.role, csrf)

    @app.post("/fallbacks", include_in_schema=False)
    async def decide_fallback(request: Request, who=Depends(staff("operator"))):
        user, csrf = who
        f = await form(request)
        check_csrf(csrf, f.get("csrf"))
        device_id, _, uuid = f.get("record", "").partition(":")
        decision = f.get("decision", "")
        await run_in_threadpool(hub.decide_fallback, device_id, uuid, decision, user.name, f.get("reason"))
        await run_in_threadpool(log, user.name, "fallback_" + decision, f"{device_id}:{uuid}", request)
        return RedirectResponse("/fallbacks", status_code=303)

    # ---- per village: due list (公示 version, masked) and figures, with XLSX export
    def _range(start: str | None, end: str | None):
        from datetime import date

        try:
            a = date.fromisoformat(start) if start else None
            b = date.fromisoformat(end) if end else None
        except ValueError:
            raise HubError("bad_date", text("server_bad_date")) from None
        b = b or hub.clock.today()
        from datetime import timedelta

        a = a or b - timedelta(days=29)
        if a > b or (b - a).days >= figures_mod.MAX_DAYS:
            raise HubError("bad_range", text("server_bad_range"))
        return a, b

    @app.get("/due", response_class=HTMLResponse, include_in_schema=False)
    def due_page(request: Request, village: str | None = Query(None, max_length=100),
                 days: int = Query(30, ge=0, le=366), who=Depends(staff())) -> str:
        user, csrf = who
        log(user.name, "view_due", f"village={village or ''} days={days}", request)
        due = figures_mod.due_list(hub, village, days) if village else None
        return render_due_page(due, figures_mod.villages(hub), user.name, user.role, csrf)

    @app.get("/due.xlsx", include_in_schema=False)
    def due_xlsx(request: Request, village: str = Query(..., max_length=100), days: int = Query(30, ge=0, le=366),
                 who=Depends(staff())) -> Response:
        log(who[0].name, "export_due", f"village={village} days={days}", request)
        data = due_workbook(figures_mod.due_list(hub, village, days))
        return _xlsx(data, f"due-{hub.clock.today().isoformat()}.xlsx")

    @app.get("/figures", response_class=HTMLResponse, include_in_schema=False)
    def figures_page(request: Request, village: str | None = Query(None, max_length=100),
                     start: str | None = Query(None, alias="from", max_length=10),
                     end: str | None = Query(None, alias="to", max_length=10), who=Depends(staff())) -> str:
        user, csrf = who
        a, b = _range(start, end)
        log(user.name, "view_figures", f"village={village or ''} from={a} to={b}", request)
        return render_figures_page(figures_mod.figures(hub, village or None, a, b), figures_mod.villages(hub),
                                   user.name, user.role, csrf)

    @app.get("/figures.xlsx", include_in_schema=False)
    def figures_xlsx(request: Request, village: str | None = Query(None, max_length=100),
                     start: str | None = Query(None, alias="from", max_length=10),
                     end: str | None = Query(None, alias="to", max_length=10), who=Depends(staff())) -> Response:
        a, b = _range(start, end)
        log(who[0].name, "export_figures", f"village={village or ''} from={a} to={b}", request)
        data = figures_workbook(figures_mod.figures(hub, village or None, a, b))
        return _xlsx(data, f"figures-{a}-{b}.xlsx")

    @app.get("/enrolments", response_class=HTMLResponse, include_in_schema=False)
    def enrolments_page(request: Request, resident: str | None = Query(None, max_length=18),
                        who=Depends(staff("operator"))) -> str:
        """Enrolments reviewed at terminals: who enrolled, who read the consent, who approved (v4)."""
        user, csrf = who
        log(user.name, "view_enrolments", resident or "", request)
        return render_enrolments_page(hub.enrolment_records(resident), hub.share_templates, hub.clock.tz,
                                      user.name, user.role, csrf)

    @app.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(request: Request, who=Depends(staff("admin"))) -> str:
        user, csrf = who
        log(user.name, "view_audit", "", request)
        return render_audit_page(hub.staff_audit(), hub.clock.tz, user.name, user.role, csrf)

    @app.get("/receipt", response_class=HTMLResponse, include_in_schema=False)
    def receipt_page(request: Request, code: str = Query("", max_length=300), who=Depends(staff())) -> str:
        """A resident's receipt (认证回执): genuine, genuine but not received yet, or not genuine."""
        from .receipts import verify

        user, csrf = who
        if not code.strip():
            return render_receipt_page("", None, user=user.name, role=user.role, csrf=csrf)
        try:
            check = verify(hub, code)
        except P.ProtocolError as e:
            return render_receipt_page(code, None, error=e.message, user=user.name, role=user.role, csrf=csrf)
        log(user.name, "receipt_verify", f"{check.result} {check.code.device_id if check.code else ''}", request)
        return render_receipt_page(code, check.lines(), check.result, user=user.name, role=user.role, csrf=csrf)

    @app.get("/api/devices", include_in_schema=False)
    def api_devices(request: Request, who=Depends(staff(html=False))) -> list[dict]:
        """Devices with their clock offset and audit sequence gaps."""
        log(who[0].name, "api_devices", "", request)
        health = hub.device_health()
        return [{"device_id": d.id, "name": d.name, "village": d.village, "status": d.status,
                 "last_seen_at": d.last_seen_at, "clock_offset_s": d.clock_offset_s,
                 "sequence": hub.sequence_gaps(d.id), "health": health.get(d.id)} for d in hub.devices()]

    @app.get("/api/summary", include_in_schema=False)
    def api_summary(request: Request, page: int = Query(1, ge=1, le=100000), village: str | None = None,
                    who=Depends(staff(html=False))) -> dict:
        log(who[0].name, "api_summary", f"page={page}", request)
        s = hub.summary(page=page, village=village or None)
        return {**s, "devices": [d.id for d in s["devices"]]}

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(who=Depends(staff(html=False))) -> JSONResponse:
        return JSONResponse(app.openapi())

    return app


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _qs(**kw) -> str:
    from urllib.parse import urlencode

    return urlencode(kw)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(hub: HubDB, host: str, port: int, ssl_certfile: str | None = None, ssl_keyfile: str | None = None,
          *, behind_tls_proxy: bool = False, proxy_ips: str | None = None) -> None:
    """`proxy_ips`: addresses of a reverse proxy whose X-Forwarded-For/-Proto to trust (rate limits
    then count the real client address)."""
    import uvicorn

    app = BodyLimit(create_app(hub, secure_cookies=bool(ssl_certfile) or behind_tls_proxy))
    uvicorn.run(app, host=host, port=port, log_level="warning", ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                proxy_headers=bool(proxy_ips), forwarded_allow_ips=proxy_ips or "127.0.0.1")
