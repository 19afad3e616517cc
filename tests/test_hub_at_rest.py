"""The county hub's data at rest: county.db encrypted whole with SQLCipher under a key derived from
hub.key; no name or ID number readable in the files on disk; a wrong or missing key says what to do;
a plaintext county.db from before is converted in place; files 0600; hub.key outside the data
folder by default (an old install's key beside county.db still works, with a warning)."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk import protocol as P

from kiosk.county import open_hub
from kiosk.county.atrest import HubAtRestError, sqlite_file
from kiosk.county.cli import default_hub_key, hub_key_path
from kiosk.county.cli import main as county_main
from kiosk.county.keys import HubKeys
from test_sync_support import people

NAME = "陈玉兰"
RID = people(1, start=77)[0]


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def files_of(db: Path) -> list[Path]:
    return [p for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")) if p.exists()]


def assert_no_plaintext(db: Path) -> None:
    for p in files_of(db):
        data = p.read_bytes()
        assert data[:16] != b"SQLite format 3\x00", p
        for needle in (NAME.encode(), RID.encode(), "东村".encode(), b"CREATE TABLE"):
            assert needle not in data, (p, needle)


def fill(hub) -> None:
    hub.upsert_residents([{"id_number": RID, "name": NAME, "village": "东村"}])
    hub.set_templates(RID, "dlib-128", [np.linspace(0, 1, 128)])


def test_county_db_is_encrypted_whole_and_reopens_with_its_key(tmp_path):
    db, key = tmp_path / "data" / "county.db", tmp_path / "cfg" / "hub.key"
    old = os.umask(0o022)
    try:
        hub = open_hub(f"sqlite:///{db}", key)
        assert hub.at_rest == "new"
        fill(hub)
        assert_no_plaintext(db)  # while open: the WAL holds the new pages, encrypted too
        assert {p.name: mode(p) for p in files_of(db)} == {p.name: 0o600 for p in files_of(db)}
        assert db.with_name("county.db-wal").exists()
        hub.close()
    finally:
        os.umask(old)
    assert_no_plaintext(db)
    assert mode(db) == 0o600 and mode(key) == 0o600 and mode(key.parent) == 0o700
    with pytest.raises(sqlite3.DatabaseError):  # the sqlite3 shell sees no database
        sqlite3.connect(db).execute("SELECT * FROM residents").fetchall()
    hub = open_hub(f"sqlite:///{db}", key)
    assert hub.at_rest == "encrypted"
    assert [(r.id_number, r.name) for r in hub.residents()] == [(RID, NAME)]
    hub.close()
    db.chmod(0o644)  # loosened by hand: tightened again at the next open
    open_hub(f"sqlite:///{db}", key).close()
    assert mode(db) == 0o600


def test_a_wrong_or_missing_key_says_restore_it_from_backup(tmp_path, monkeypatch, capsys):
    db, key = tmp_path / "county" / "county.db", tmp_path / "cfg" / "hub.key"
    hub = open_hub(f"sqlite:///{db}", key)
    fill(hub)
    hub.close()
    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(32))
    with pytest.raises(HubAtRestError) as e:
        open_hub(f"sqlite:///{db}", other)
    assert e.value.code == "county_db_key" and "hub.key" in e.value.message and "备份" in e.value.message
    assert "not a database" not in e.value.message
    with pytest.raises(HubAtRestError) as e:  # missing: refused, never opened under a fresh key
        open_hub(f"sqlite:///{db}", tmp_path / "gone" / "hub.key")
    assert e.value.code == "hub_key_missing" and "备份" in e.value.message
    assert not (tmp_path / "gone" / "hub.key").exists()
    # the CLI: one line, exit 2
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    capsys.readouterr()
    assert county_main(["devices", "--hub-key", str(other)]) == 2
    out = capsys.readouterr()
    assert out.out.count("\n") == 1 and out.out.startswith("错误：") and "hub.key" in out.out
    assert "not a database" not in out.out + out.err and "ERROR CORE" not in out.err
    assert county_main(["check", "--hub-key", str(key), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["at_rest"] == "sqlcipher" and got["integrity"] == "ok" and got["residents"] == 1


def _plaintext_county_db(db: Path, key: Path) -> None:
    """A county.db as the hub made it before encryption at rest: plain SQLite (WAL), a device and
    templates sealed with the hub key."""
    from sqlalchemy import create_engine, insert

    from kiosk.county.db import Base, Change, Device, Resident, TemplateSetRow

    keys = HubKeys.load_or_create(key)
    wal = sqlite3.connect(db)  # the hub always ran its SQLite database in WAL mode
    assert wal.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    wal.close()
    engine = create_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    nonce, ct = keys.encrypt_at_rest(np.ones((1, 128), "<f8").tobytes(), f"hub-template|{RID}|dlib-128")
    with engine.begin() as c:
        c.execute(insert(Change), [{"kind": "roster", "key": RID, "at": "t"}, {"kind": "template", "key": RID, "at": "t"}])
        c.execute(insert(Resident), [{"id_number": RID, "name": NAME, "village": "东村", "version": 1, "updated_at": "t"}])
        c.execute(insert(TemplateSetRow), [{"resident_id": RID, "backend": "dlib-128", "version": 2, "dtype": "float64",
                                            "dim": 128, "count": 1, "nonce": nonce, "ciphertext": ct, "updated_at": "t"}])
        c.execute(insert(Device), [{"id": "dev-a", "name": "东村服务点", "village": "东村", "sign_pub": "s", "box_pub": "b",
                                    "registered_at": "t"}])
    engine.dispose()
    db.chmod(0o644)


def test_a_plaintext_county_db_is_converted_in_place(tmp_path):
    db, key = tmp_path / "county" / "county.db", tmp_path / "cfg" / "hub.key"
    db.parent.mkdir()
    _plaintext_county_db(db, key)
    assert NAME.encode() in db.read_bytes()
    hub = open_hub(f"sqlite:///{db}", key)
    assert hub.at_rest == "converted"
    assert [(r.id_number, r.name) for r in hub.residents()] == [(RID, NAME)]
    assert hub.device("dev-a").village == "东村"
    from kiosk.county.db import TemplateSetRow

    with hub.Session() as s:  # the sealed template still opens under the same hub key
        row = s.get(TemplateSetRow, (RID, "dlib-128"))
    plain = hub.keys.decrypt_at_rest(row.nonce, row.ciphertext, f"hub-template|{RID}|dlib-128")
    assert np.frombuffer(plain, "<f8").tolist() == [1.0] * 128
    hub.upsert_residents([{"id_number": people(1, start=78)[0], "name": "李四", "village": "东村"}])
    hub.close()
    assert_no_plaintext(db)
    assert mode(db) == 0o600
    assert sorted(p.name for p in db.parent.iterdir()) == ["county.db"]  # no plaintext copy, no temp left
    hub = open_hub(f"sqlite:///{db}", key)
    assert hub.at_rest == "encrypted" and len(hub.residents()) == 2
    hub.close()


def test_conversion_waits_for_the_running_hub_to_stop(tmp_path):
    db, key = tmp_path / "county.db", tmp_path / "cfg" / "hub.key"
    _plaintext_county_db(db, key)
    # a hub of the old version (another process) still has it open
    holder = subprocess.Popen([sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
                               " c.execute('SELECT count(*) FROM residents').fetchone(); print('open', flush=True);"
                               " sys.stdin.read()", str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(HubAtRestError) as e:
            open_hub(f"sqlite:///{db}", key)
        assert e.value.code == "county_db_busy" and "kiosk-county serve" in e.value.message
    finally:
        holder.communicate("", timeout=30)
    assert db.read_bytes()[:16] == b"SQLite format 3\x00"  # untouched
    assert not db.with_name("county.db.encrypting").exists()
    hub = open_hub(f"sqlite:///{db}", key)
    assert hub.at_rest == "converted" and hub.residents()[0].name == NAME
    hub.close()


def test_hub_key_lives_outside_the_data_folder_by_default(tmp_path, monkeypatch, capsys):
    data, config = tmp_path / "data", tmp_path / "config"
    monkeypatch.setenv("KIOSK_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    assert default_hub_key() == config / "village-kiosk-county" / "hub.key"
    assert county_main(["provision", "--village", "东村", "--json"]) == 0
    key = config / "village-kiosk-county" / "hub.key"
    assert key.exists() and mode(key) == 0o600 and mode(key.parent) == 0o700
    assert not list(data.rglob("hub.key")) and (data / "county" / "county.db").exists()
    assert data not in key.parents
    # --hub-key and KIOSK_HUB_KEY still choose; systemd's ConfigurationDirectory= is the service's default
    assert hub_key_path(str(tmp_path / "x.key")) == tmp_path / "x.key"
    monkeypatch.setenv("KIOSK_HUB_KEY", str(tmp_path / "y.key"))
    assert hub_key_path() == tmp_path / "y.key"
    monkeypatch.delenv("KIOSK_HUB_KEY")
    monkeypatch.setenv("CONFIGURATION_DIRECTORY", "/etc/village-kiosk-county")
    assert default_hub_key() == Path("/etc/village-kiosk-county/hub.key")


def test_an_old_install_with_the_key_beside_county_db_keeps_working_and_is_told_to_move_it(
        tmp_path, monkeypatch, capsys):
    data, config = tmp_path / "data", tmp_path / "config"
    monkeypatch.setenv("KIOSK_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    legacy = data / "county" / "hub.key"
    hub = open_hub(f"sqlite:///{data / 'county' / 'county.db'}", legacy)
    fill(hub)
    hub.close()
    capsys.readouterr()
    assert county_main(["check", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["residents"] == 1
    warning = out.err.strip().splitlines()
    assert len(warning) == 1 and str(legacy) in warning[0] and "village-kiosk-county" in warning[0]
    assert not (config / "village-kiosk-county").exists()  # never moved or copied by the hub itself


def test_exported_bundles_are_0600(tmp_path, monkeypatch, capsys):
    from kiosk.county.db import Device

    monkeypatch.setenv("KIOSK_HOME", str(tmp_path / "data"))
    hub = open_hub(f"sqlite:///{tmp_path / 'data' / 'county' / 'county.db'}", default_hub_key())
    fill(hub)
    box_pub = P.public_b64(X25519PrivateKey.generate())  # the device's receiving key
    with hub.Session.begin() as s:
        s.add(Device(id="dev-a", name="东村", village="东村", sign_pub="s", box_pub=box_pub, registered_at="t"))
    hub.close()
    old = os.umask(0o022)
    try:
        assert county_main(["export", "--device", "dev-a", "--to", str(tmp_path / "usb"), "--json"]) == 0
    finally:
        os.umask(old)
    bundle = Path(json.loads(capsys.readouterr().out)["file"])
    assert mode(bundle) == 0o600


def test_postgresql_urls_are_left_to_the_database_server():
    assert sqlite_file("postgresql+psycopg://u@h/kiosk") is None
    assert sqlite_file("sqlite://") is None and sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("sqlite:////var/lib/county/county.db") == Path("/var/lib/county/county.db")
