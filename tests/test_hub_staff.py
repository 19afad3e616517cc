"""County staff at the hub: accounts (scrypt), login, sessions with expiry, roles, CSRF, the
audit of who viewed or changed what, rate limits (429 + Retry-After), TLS by default beyond
loopback, and the paged status page."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import httpx
import pytest

from kiosk import protocol as P
from kiosk.county.auth import Limits, RateLimiter, hash_password, verify_password
from kiosk.county.cli import main as county_main
from kiosk.county.server import create_app
from test_sync_support import hub  # noqa: F401  (fixture)
from test_sync_support import open_store, people, staff_client


def test_password_hash_is_scrypt_and_salted():
    h = hash_password("correct horse battery")
    assert h.startswith("scrypt$") and "correct" not in h and h != hash_password("correct horse battery")
    assert verify_password("correct horse battery", h) and not verify_password("wrong", h)
    assert not verify_password("x", "garbage")


def test_every_staff_page_and_api_needs_a_login(hub):
    c = httpx.Client(base_url=hub.url, trust_env=False)
    for path in ("/", "/review", "/audit", "/?page=2"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    for path in ("/openapi.json", "/api/devices", "/api/summary"):
        r = c.get(path)
        assert r.status_code == 401 and r.json()["error"] == "login_required"
    assert c.get("/docs").status_code == 404 and c.get("/redoc").status_code == 404
    assert c.get("/health").json() == {"ok": True}
    assert c.get("/v1/ping").json()["ok"]  # device endpoints stay open (signed where it matters)
    assert c.post("/review", data={"record": "x:y", "decision": "confirmed"}).status_code == 303


def test_login_session_roles_csrf_and_audit(hub, tmp_path):
    db = hub.db
    rid = people(1, start=600)[0]
    db.upsert_residents([{"id_number": rid, "name": "王东", "village": "东村"}])
    store = open_store(tmp_path / "t")
    from kiosk.sync import register

    a = register(store, hub.url, db.provision("东村"), "东村")
    now = db.clock.utc_now()
    at = (now + timedelta(days=40)).isoformat()
    db.store_records(a.device_id, [P.PushRecord(uuid="00000000-0000-4000-8000-000000000001", kind="certification",
                                                created_at=at, payload={
                                                    "uuid": "u", "resident_id": rid, "category": "pension",
                                                    "mode": "self", "started_at": at, "finished_at": at,
                                                    "verdict": "pass"})], "network")
    # wrong password: 401, logged, no cookie
    c = httpx.Client(base_url=hub.url, trust_env=False)
    db.add_user("viewer1", "viewer", "viewer-secret-1")
    csrf = re.search(r'name=csrf value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"csrf": csrf, "user": "viewer1", "password": "nope-nope-nope"})
    assert r.status_code == 401 and "用户名或密码不对" in r.text
    # login without the form's CSRF token: refused
    r = c.post("/login", data={"user": "viewer1", "password": "viewer-secret-1"})
    assert r.status_code == 403 and r.json()["error"] == "csrf"
    viewer = staff_client(hub, "viewer1", "viewer", "viewer-secret-1")
    page = viewer.get("/review")
    assert page.status_code == 200 and "需经办权限" in page.text and a.device_id in page.text
    assert viewer.get("/audit").status_code == 403
    target = f"{a.device_id}:00000000-0000-4000-8000-000000000001"
    r = viewer.post("/review", data={"record": target, "decision": "confirmed"})
    assert r.status_code == 403  # a viewer may not decide
    op = staff_client(hub, "op1", "operator", "operator-secret")
    form = op.get("/review").text
    token = re.search(r'name=csrf value="([^"]+)"', form).group(1)
    r = op.post("/review", data={"record": target, "decision": "rejected"})  # no CSRF token
    assert r.status_code == 403 and r.json()["error"] == "csrf"
    r = op.post("/review", data={"csrf": token, "record": target, "decision": "rejected"})
    assert r.status_code == 303 and db.suspect_records() == []
    admin = staff_client(hub)
    audit = admin.get("/audit").text
    for words in ("login_failed", "view_review", "review_rejected", target, "op1", "viewer1"):
        assert words in audit, words
    devices = admin.get("/api/devices").json()
    assert devices[0]["device_id"] == a.device_id and "sequence" in devices[0]
    # logout ends the session; an expired session is no session
    token = re.search(r'name=csrf value="([^"]+)"', admin.get("/").text).group(1)
    assert admin.post("/logout", data={"csrf": token}).status_code == 303
    assert admin.get("/").status_code == 303
    t, _ = db.open_session("op1", hours=-1)
    assert db.session(t) is None
    db.disable_user("op1")
    assert op.get("/").status_code == 303
    store.close()


def test_rate_limits_answer_429_with_retry_after(tmp_path):
    from fastapi.testclient import TestClient

    from kiosk.county import open_hub

    db = open_hub(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "hub.key")
    app = create_app(db, Limits(device=(1.0, 5), register=(0.01, 2), login=(0.01, 3)))
    c = TestClient(app)
    codes = [c.post("/v1/records", content=b"{}").status_code for _ in range(8)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429] * 3
    r = c.post("/v1/records", content=b"{}")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and r.json()["error"] == "rate_limited"
    body = {"code": "AAAA-BBBB-CCCC", "name": "x", "sign_pub": "x", "box_pub": "x", "proof": "x"}
    codes = [c.post("/v1/devices/register", json=body).status_code for _ in range(4)]
    assert codes[2:] == [429, 429]
    codes = [c.post("/login", data={"user": "a", "password": "b"}).status_code for _ in range(5)]
    assert codes[:3] == [403] * 3 and codes[3:] == [429, 429]
    db.close()


def test_token_bucket_refills():
    t = [0.0]
    rl = RateLimiter(per_s=2.0, burst=2, now=lambda: t[0])
    assert [rl.take("k") for _ in range(2)] == [0, 0]
    assert rl.take("k") == pytest.approx(0.5)
    t[0] += 0.5
    assert rl.take("k") == 0 and rl.take("other") == 0


def test_user_add_reads_the_password_from_stdin_never_argv(hub, tmp_path, monkeypatch, capsys):
    args = ["--db", hub.db.url, "--hub-key", str(tmp_path / "county" / "hub.key")]
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
    assert county_main(["user", "add", "张科长", "--role", "admin", *args]) == 0
    assert hub.db.check_login("张科长", "a-long-password-1").role == "admin"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert county_main(["user", "add", "李四", "--role", "viewer", *args]) == 2
    assert "密码太短" in capsys.readouterr().out
    assert county_main(["user", "list", *args]) == 0 and "张科长  admin" in capsys.readouterr().out


def test_serve_beyond_loopback_makes_a_self_signed_cert_and_prints_its_pin(tmp_path, monkeypatch, capsys):
    import kiosk.county.server as server

    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    seen = {}
    monkeypatch.setattr(server, "serve", lambda hub, host, port, cert, key, **kw: seen.update(cert=cert, key=key, **kw))
    assert county_main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 0
    out = capsys.readouterr().out
    pin = P.cert_pin(open(seen["cert"]).read())
    assert pin in out and "https://" in out and "user add" in out
    assert (tmp_path / "county" / "tls" / "hub-tls.key").stat().st_mode & 0o077 == 0
    assert county_main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 0
    assert pin in capsys.readouterr().out  # the same certificate next time: terminals keep their pin
    assert county_main(["serve", "--host", "0.0.0.0", "--port", "1", "--insecure-http"]) == 0
    assert seen["cert"] is None and seen["behind_tls_proxy"] and "反向代理" in capsys.readouterr().out
    assert county_main(["serve", "--port", "1"]) == 0 and seen["cert"] is None  # loopback: plain http


def test_status_page_is_paged(hub, tmp_path):
    ids = people(250, start=1000)
    hub.db.upsert_residents([{"id_number": r, "name": f"居民{i}", "village": "东村" if i % 2 else "西村"}
                             for i, r in enumerate(ids)])
    c = staff_client(hub)
    html = c.get("/").text
    assert "共 250 人" in html and "第 1 / 3 页" in html and "下一页" in html
    assert html.count("<tr>") <= 100 + 10
    assert "第 3 / 3 页" in c.get("/?page=3").text
    seen = set()
    path = "/"
    for _ in range(3):  # "下一页" seeks by the last ID shown (an index seek however deep)
        page = c.get(path).text
        shown = set(re.findall(r"<td>(\d{6}\*{8}\w{4})</td>", page))
        assert len(shown) == 100 or path != "/" and 40 <= len(shown) <= 100
        assert not shown & seen
        seen |= shown
        nxt = re.search(r'href="(/\?after=[^"]+)">下一页', page)
        if nxt is None:
            break
        path = nxt.group(1).replace("&amp;", "&")
    assert len(seen) >= 240  # masked IDs may collide; nothing is shown twice
    west = c.get("/", params={"village": "西村"}).text
    assert "共 125 人" in west and "东村" not in west.split("逾期未认证（")[1].split("</table>")[0]

