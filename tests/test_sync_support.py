"""Helpers for the county-sync tests: a real hub (uvicorn in a thread on 127.0.0.1, random
port), a fault injector in front of it, a TCP proxy that cuts connections, and residents
with valid ID numbers, and the hub/terminal fixtures. No tests here."""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import uvicorn

from kiosk.county import open_hub
from kiosk.county.server import BodyLimit, create_app
from kiosk.store import Store
from kiosk.sync import register

T0 = datetime(2026, 3, 5, 1, 0, tzinfo=timezone.utc)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(n: int, region: str = "110105", born: str = "19500101") -> str:
    body = f"{region}{born}{n % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


def people(count: int, start: int = 1) -> list[str]:
    """Distinct valid ID numbers (birth dates vary so the 3-digit sequence never collides)."""
    out = []
    for i in range(start, start + count):
        born = f"19{40 + (i // 1000) % 40:02d}{(i // 100) % 12 + 1:02d}{(i // 10) % 10 + 10:02d}"
        out.append(id_number(i % 1000, born=born))
    return out


class Faults:
    """ASGI wrapper: 500 before the app, 500 after the app committed, or a delay (timeouts)."""

    def __init__(self, app):
        self.app = app
        self.fail_before = 0
        self.fail_after = 0
        self.delay_next = 0
        self.delay_s = 0.0
        self.slow_s = 0.0
        self.bodies: list[bytes] = []
        self.responses: list[bytes] = []
        self.record = False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.record:
            chunks = []
            orig_receive = receive

            async def receive():
                m = await orig_receive()
                chunks.append(m.get("body", b""))
                if not m.get("more_body"):
                    self.bodies.append(b"".join(chunks))
                return m

            orig_send = send

            async def send(m):
                if m["type"] == "http.response.body":
                    self.responses.append(m.get("body", b""))
                await orig_send(m)
        if self.slow_s:
            await asyncio.sleep(self.slow_s)
        if self.fail_before > 0:
            self.fail_before -= 1
            return await _plain_500(send)
        if self.delay_next > 0:
            self.delay_next -= 1
            await asyncio.sleep(self.delay_s)
        if self.fail_after > 0:
            self.fail_after -= 1

            async def swallow(_m):
                pass

            await self.app(scope, receive, swallow)
            return await _plain_500(send)
        return await self.app(scope, receive, send)


async def _plain_500(send):
    await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Internal Server Error"})


def _hub_url(folder: Path) -> str:
    """SQLite in the test folder; with KIOSK_TEST_COUNTY_DB=postgresql+psycopg://…/postgres the same
    tests run against PostgreSQL, one fresh database per hub (not in CI: needs a server)."""
    import os

    base = os.environ.get("KIOSK_TEST_COUNTY_DB")
    if not base:
        return f"sqlite:///{folder / 'county.db'}"
    if folder in _PG_URLS:  # a hub restarted on the same data
        return _PG_URLS[folder]
    import secrets

    from sqlalchemy import create_engine, text

    name = "kiosk_test_" + secrets.token_hex(4)
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    _PG_URLS[folder] = base.rsplit("/", 1)[0] + "/" + name
    return _PG_URLS[folder]


_PG_URLS: dict[Path, str] = {}


class Hub:
    """A real county hub on 127.0.0.1 with a random free port."""

    def __init__(self, folder: Path, tls: tuple[Path, Path] | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        self.db = open_hub(_hub_url(folder), folder / "hub.key")
        self.faults = Faults(BodyLimit(create_app(self.db)))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        ssl_args = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
        self.server = uvicorn.Server(uvicorn.Config(self.faults, log_level="error", lifespan="off", **ssl_args))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("hub did not start")
            time.sleep(0.02)
        ROSTER_HUBS.append(self)

    def stop(self) -> None:
        if self in ROSTER_HUBS:
            ROSTER_HUBS.remove(self)
        self.server.should_exit = True
        self.thread.join(10)
        self.db.close()


class CuttingProxy:
    """TCP proxy in front of the hub. `cut_request_after = N` closes the next connection after
    forwarding N bytes of a request (the hub never sees a whole request); `drop_response = k`
    lets k requests reach the hub but closes the connection instead of passing the answer on."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.cut_request_after: int | None = None
        self.drop_response = 0
        self.cuts = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(client, upstream), daemon=True).start()

    def _close(self, *socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _up(self, client, upstream):
        sent = 0
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                limit = self.cut_request_after
                if limit is not None and sent + len(data) > limit:
                    upstream.sendall(data[: max(0, limit - sent)])
                    self.cut_request_after = None
                    self.cuts += 1
                    self._close(client, upstream)
                    return
                upstream.sendall(data)
                sent += len(data)
        except OSError:
            pass
        self._close(client, upstream)

    def _down(self, client, upstream):
        try:
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                if self.drop_response > 0:
                    self.drop_response -= 1
                    self.cuts += 1
                    self._close(client, upstream)
                    return
                client.sendall(data)
        except OSError:
            pass
        self._close(client, upstream)

    def stop(self):
        self._stop = True
        self.sock.close()


ROSTER_HUBS: list = []  # test hubs running now: fill() puts its residents on their roster


def fill(store, ids: list[str], certs_per_person: int = 1, start=T0, village: str = "东村") -> list[str]:
    """Residents on the local roster (and on the test hub's, as the county would have them: the hub
    refuses certifications of people not on the device's village roster) plus passed/failed
    certifications recorded as the session does."""
    for h in ROSTER_HUBS:
        known = {r.id_number for r in h.db.residents()}
        h.db.upsert_residents([{"id_number": rid, "name": f"居民{i}", "village": village}
                               for i, rid in enumerate(ids) if rid not in known])
    out = []
    with store.transaction():
        for i, rid in enumerate(ids):
            if store.get_resident(rid) is None:
                store.upsert_resident(rid, f"居民{i}", village=village)
            for k in range(certs_per_person):
                at = start + timedelta(minutes=i * certs_per_person + k)
                out.append(store.record_attempt(
                    resident_id=rid, category="pension", mode="self", verdict="pass" if k % 3 != 2 else "fail",
                    started_at=at, finished_at=at + timedelta(seconds=9), message="恭喜您认证成功",
                    scores={"distance": 0.41, "threshold": 0.47}, liveness={"actions": ["blink", "turn_left"]},
                    operator="协办员王五", device_id="kiosk-test"))
    return out


def assert_hub_holds_exactly(hub_db, store, device_id: str) -> int:
    """The hub holds every local certification exactly once, and nothing else from this device."""
    import json

    from kiosk.county.db import Record
    from sqlalchemy import select

    local = {r["uuid"]: json.loads(r["payload"])["uuid"] for r in store.db.query("SELECT uuid, payload FROM outbox")}
    with hub_db.Session() as s:
        rows = s.execute(select(Record.uuid, Record.payload).where(Record.device_id == device_id)
                         .where(Record.kind == "certification")).all()
    hub_uuids = [u for u, _ in rows]
    attempt_uuids = [json.loads(p)["uuid"] for _, p in rows]
    assert len(hub_uuids) == len(set(hub_uuids))
    assert len(attempt_uuids) == len(set(attempt_uuids)), "an attempt reached the hub twice"
    assert set(hub_uuids) == set(local), f"hub {len(hub_uuids)} vs local {len(local)}"
    assert sorted(attempt_uuids) == sorted(local.values())
    return len(hub_uuids)


def self_signed_cert(folder: Path, name: str = "county") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as a county without a public CA would make."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# ------------------------------------------------------------------ shared fixtures
@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path / "county")
    yield h
    h.stop()


def staff_client(hub, name: str = "admin", role: str = "admin", password: str = "county-secret-1"):
    """An httpx client logged in to the hub's staff pages (the account is made if missing)."""
    import re

    import httpx

    if name not in {u.name for u in hub.db.users()}:
        hub.db.add_user(name, role, password)
    c = httpx.Client(base_url=hub.url, trust_env=False, verify=False)
    csrf = re.search(r'name=csrf value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"csrf": csrf, "user": name, "password": password, "next": "/"})
    assert r.status_code == 303, r.text
    return c


def open_store(folder: Path) -> Store:
    folder.mkdir(parents=True, exist_ok=True)
    return Store.open(folder / "kiosk.db", folder / "template.key")


@pytest.fixture
def terminal(tmp_path, hub):
    """A registered terminal of 东村: (store, identity)."""
    store = open_store(tmp_path / "t1")
    ident = register(store, hub.url, hub.db.provision("东村"), "东村服务点")
    yield store, ident
    store.close()
