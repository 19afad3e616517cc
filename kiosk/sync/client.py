"""HTTP client for the county hub: signed requests, clock offset, TLS pinning, clear errors."""
from __future__ import annotations

import ipaddress
import json
import ssl
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from kiosk import protocol as P
from kiosk.texts import text


class SyncError(Exception):
    """`code` stable English; `message` plain Chinese for village staff: the catalogue's
    `sync_<why or code>` filled with `data`, or the words the hub sent (or a protocol error's);
    `retryable` for backoff; `detail` English for logs."""

    def __init__(self, code: str, message: str | None = None, retryable: bool = False, detail: str = "", *,
                 why: str | None = None, **data: Any):
        if message is None:
            message = text(f"sync_{why or code}", **data)
        super().__init__(f"{code}: {message} {detail}".strip())
        self.code, self.message, self.retryable, self.detail, self.data = code, message, retryable, detail, data


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncError("bad_hub_url", url=url)
    if parts.scheme == "http" and not is_loopback(url):
        raise SyncError("insecure_hub_url")
    return url.rstrip("/")


def fetch_cert_pem(url: str, timeout: float = 10) -> tuple[str, str]:
    """The server certificate (PEM) and its SHA-256 fingerprint (hex), fetched without trusting it."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise SyncError("bad_hub_url", why="hub_url_no_host", url=url)
    pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=timeout)
    return pem, cert_pin(pem)


cert_pin = P.cert_pin  # the hub prints it at `kiosk-county serve`; defined once in the protocol


def _verify(url: str, cert_pem: str | None):
    if urlsplit(url).scheme != "https":
        return True
    if cert_pem:
        ctx = ssl.create_default_context(cadata=cert_pem)  # trust only the county's pinned certificate
        ctx.check_hostname = False
        return ctx
    return True  # a county with a certificate from a public CA


class HubClient:
    def __init__(self, url: str, device_id: str | None = None, sign_key=None, *, timeout: float = 15.0,
                 cert_pem: str | None = None, clock_offset: float = 0.0):
        self.url = check_url(url)
        self.device_id, self.sign_key = device_id, sign_key
        self.clock_offset = clock_offset
        self.cert_pem = cert_pem
        self.hub_protocol = 0  # v5: the X-Kiosk-Protocol of the hub's last answer (0: an older hub says nothing)
        self.http = httpx.Client(base_url=self.url, timeout=timeout, verify=_verify(self.url, cert_pem),
                                 trust_env=False)

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method: str, path: str, body: dict | None = None, params: dict | None = None,
                signed: bool = True, _retry_clock: bool = True) -> dict:
        full = P.API + path + (("?" + urlencode(params)) if params else "")
        data = P.canonical_json(body) if body is not None else b""
        headers = {"content-type": "application/json"} if body is not None else {}
        if signed:
            assert self.device_id is not None, "signed requests come from a registered device"
            headers.update(P.sign_request(self.sign_key, self.device_id, method, full, data,
                                          time.time() + self.clock_offset))
        try:
            resp = self.http.request(method, full, content=data, headers=headers)
        except httpx.TimeoutException as e:
            raise SyncError("timeout", retryable=True, detail=repr(e)) from None
        except httpx.ConnectError as e:
            said = str(e).upper()
            if "CERTIFICATE_VERIFY_FAILED" in said:
                raise SyncError("tls_pin_mismatch", detail=str(e)) from None
            if "SSL" in said:
                raise SyncError("tls_error", detail=str(e)) from None
            raise SyncError("hub_unreachable", retryable=True, detail=repr(e)) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.NetworkError) as e:
            raise SyncError("connection_cut", retryable=True, detail=repr(e)) from None
        try:
            self.hub_protocol = max(self.hub_protocol, int(resp.headers.get(P.H_PROTOCOL, 0)))
        except ValueError:
            pass
        if resp.status_code >= 500:
            raise SyncError("server_error", retryable=True, detail=f"HTTP {resp.status_code}")
        try:
            payload = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SyncError("bad_response", retryable=True, detail=f"HTTP {resp.status_code}, not JSON",
                            why="server_error") from None
        if resp.status_code >= 400:
            code = payload.get("error", f"http_{resp.status_code}") if isinstance(payload, dict) else "http_error"
            message = payload.get("message", "") if isinstance(payload, dict) else ""
            if code == "clock_skew" and _retry_clock:
                try:
                    self.clock_offset = float(payload.get("detail")) - time.time()
                except (TypeError, ValueError):
                    pass
                else:
                    return self.request(method, path, body, params, signed, _retry_clock=False)
            retryable = code in ("replayed", "clock_skew") or resp.status_code == 429
            raise SyncError(code, message or text("sync_http_refused", status=resp.status_code), retryable)
        return payload
