"""HTTP client for the county hub: signed requests, clock offset, TLS pinning, clear errors."""
from __future__ import annotations

import ipaddress
import json
import ssl
import time
from urllib.parse import urlencode, urlsplit

import httpx

from kiosk import protocol as P


class SyncError(Exception):
    """`code` stable English; `message` plain Chinese for village staff; `retryable` for backoff."""

    def __init__(self, code: str, message: str, retryable: bool, detail: str = ""):
        super().__init__(f"{code}: {message} {detail}".strip())
        self.code, self.message, self.retryable, self.detail = code, message, retryable, detail


MSG_UNREACHABLE = "连不上县里的服务器。记录已保存在本机，不会丢失；联网后会自动上传。没有网络时可用 U 盘导出（kiosk export）。"
MSG_TIMEOUT = "县里的服务器响应太慢，稍后会自动重试。记录已保存在本机，不会丢失。"
MSG_SERVER = "县里的服务器暂时出错，稍后会自动重试。记录已保存在本机，不会丢失。"
MSG_CUT = "与县里服务器的连接中断，稍后会自动重试。记录已保存在本机，不会丢失。"


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
        raise SyncError("bad_hub_url", f"县里服务器地址“{url}”格式不对，应像 https://192.168.1.10:8443", False)
    if parts.scheme == "http" and not is_loopback(url):
        raise SyncError("insecure_hub_url", "只能用 https 连接县里的服务器（明文 http 只允许本机测试）。请向县社保局索取 https 地址和证书指纹。", False)
    return url.rstrip("/")


def fetch_cert_pem(url: str, timeout: float = 10) -> tuple[str, str]:
    """The server certificate (PEM) and its SHA-256 fingerprint (hex), fetched without trusting it."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise SyncError("bad_hub_url", f"县里服务器地址“{url}”里没有主机名，应像 https://192.168.1.10:8443", False)
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
            raise SyncError("timeout", MSG_TIMEOUT, True, repr(e)) from None
        except httpx.ConnectError as e:
            text = str(e).upper()
            if "CERTIFICATE_VERIFY_FAILED" in text:
                raise SyncError("tls_pin_mismatch", "县里服务器的证书与登记时的不一致，已停止连接（可能被冒充）。请联系县社保局信息科。", False, str(e)) from None
            if "SSL" in text:
                raise SyncError("tls_error", "与县里服务器建立加密连接失败，请核对服务器地址（https 和端口）或联系县社保局信息科。", False, str(e)) from None
            raise SyncError("hub_unreachable", MSG_UNREACHABLE, True, repr(e)) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.NetworkError) as e:
            raise SyncError("connection_cut", MSG_CUT, True, repr(e)) from None
        try:
            self.hub_protocol = max(self.hub_protocol, int(resp.headers.get(P.H_PROTOCOL, 0)))
        except ValueError:
            pass
        if resp.status_code >= 500:
            raise SyncError("server_error", MSG_SERVER, True, f"HTTP {resp.status_code}")
        try:
            payload = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SyncError("bad_response", MSG_SERVER, True, f"HTTP {resp.status_code}, not JSON") from None
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
            raise SyncError(code, message or f"县里服务器拒绝了请求（HTTP {resp.status_code}）。", retryable)
        return payload
