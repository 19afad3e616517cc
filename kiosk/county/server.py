"""The county hub's HTTP API (FastAPI). `create_app(hub)` builds the app; `serve(...)` runs it.

Every terminal request except registration is signed (kiosk.protocol.sign_request): the hub
refuses unknown or revoked devices, bad signatures, clocks outside the replay window and any
nonce seen before. Errors are JSON: {"error": stable code, "message": plain Chinese, "detail"}.
"""
from __future__ import annotations


from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from kiosk import protocol as P

from .db import Device, HubDB, HubError
from .page import render_status_page

MSG_SERVER_ERROR = "县里服务器内部出错。已发出的数据不会丢失，终端会自动重试；如果一直出现，请联系县社保局信息科。"


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
                       message=f"一次发送的数据太大（上限 {P.MAX_BODY_BYTES // (1024 * 1024)} MB），请分批发送。"
                       ).model_dump_json().encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _error(status: int, code: str, message: str, detail: str = "") -> JSONResponse:
    return JSONResponse(P.ErrorBody(error=code, message=message, detail=detail).model_dump(), status_code=status)


def create_app(hub: HubDB) -> FastAPI:
    app = FastAPI(title="村口认证 县级汇总服务 (county hub)", version=str(P.PROTOCOL_VERSION),
                  description="Village Certification Kiosk county hub: device registration, record push, "
                              "roster/template pull. All /v1 calls except registration are Ed25519-signed.")

    @app.exception_handler(HubError)
    async def _hub_error(_request, e: HubError):
        return _error(e.status, e.code, e.message, e.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request, e: RequestValidationError):
        errs = e.errors()
        unknown = [".".join(str(x) for x in err["loc"][1:]) for err in errs if err.get("type") == "extra_forbidden"]
        if unknown:
            return _error(422, "unknown_field", f"请求中有无法识别的字段：{'、'.join(unknown)}。请把终端程序升级到与县里一致的版本。")
        where = "、".join(".".join(str(x) for x in err["loc"][1:]) or "body" for err in errs[:5])
        return _error(422, "bad_request", f"请求格式不对（{where}）。请把终端程序升级到与县里一致的版本。", str(errs)[:500])

    @app.exception_handler(Exception)
    async def _crash(_request, e: Exception):
        return _error(500, "server_error", MSG_SERVER_ERROR, type(e).__name__)

    async def device(request: Request) -> Device:
        h = request.headers
        device_id, ts, nonce, sig = (h.get(P.H_DEVICE), h.get(P.H_TIMESTAMP), h.get(P.H_NONCE), h.get(P.H_SIGNATURE))
        if not (device_id and ts and nonce and sig):
            raise HubError("unsigned", "请求没有签名。请先用开通码登记本机（kiosk register）。", 401)
        body = await request.body()
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.scope.get("query_string"):
            path += "?" + request.scope["query_string"].decode("latin-1")
        message = P.signing_message(request.method, path, ts, nonce, body)
        return await run_in_threadpool(hub.authenticate, device_id, ts, nonce, sig, message, hub.clock.timestamp())

    @app.get(P.API + "/ping")
    def ping() -> dict:
        """Liveness and the hub's clock (terminals correct their clock offset from it)."""
        return {"ok": True, "server_time": hub.clock.timestamp(), "county": hub.county, "protocol": P.PROTOCOL_VERSION}

    @app.post(P.API + "/devices/register", response_model=P.RegisterResponse,
              responses={403: {"model": P.ErrorBody}, 401: {"model": P.ErrorBody}})
    def register(req: P.RegisterRequest) -> P.RegisterResponse:
        """One-time registration with a provisioning code from `kiosk-county provision`."""
        return hub.register(req)

    @app.post(P.API + "/records", response_model=P.PushResponse,
              responses={401: {"model": P.ErrorBody}, 409: {"model": P.ErrorBody}, 413: {"model": P.ErrorBody}})
    def push(req: P.PushRequest, dev: Device = Depends(device)) -> P.PushResponse:
        """Store each record once (by uuid); one acknowledgement per record."""
        return P.PushResponse(acks=hub.store_records(dev.id, req.records, via="network"))

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

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def status_page() -> str:
        return render_status_page(hub.county, hub.summary(), hub.clock.tz)

    return app


def serve(hub: HubDB, host: str, port: int, ssl_certfile: str | None = None, ssl_keyfile: str | None = None) -> None:
    import uvicorn

    uvicorn.run(BodyLimit(create_app(hub)), host=host, port=port, log_level="warning",
                ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
