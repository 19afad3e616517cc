"""The resident's receipt (认证回执): the code and the QR (kiosk.protocol), the slip (kiosk.receipt),
checking it on the terminal and at a real local county hub (`kiosk-county receipt verify`, the /receipt
page), the PDF (read back with pdftotext) and the ESC/POS bytes (python-escpos's Dummy printer)."""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid as uuidlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk import protocol as P
from kiosk import receipt as R
from kiosk.config import Settings, key_file, validate
from kiosk.core.ids import birth_date, mask_id
from kiosk.policy import BirthdayCycle
from kiosk.store import Store, fallbacks
from kiosk.store.fallbacks import Relative
from kiosk.sync import register, sync_once
from test_cli import kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)
from test_sync_support import hub, staff_client, terminal  # noqa: F401  (fixtures)
from test_sync_support import T0, fill, people

RULE = BirthdayCycle()


def _changed(code: str, pos: int) -> str:
    """The code with the `pos`-th symbol (dashes skipped) replaced by another symbol value."""
    chars = [c for c in code if c != "-"]
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    chars[pos] = alphabet[(alphabet.index(chars[pos]) + 7) % 32]
    return "".join(chars)


# ------------------------------------------------------------------ the code alone
def test_code_round_trip_and_every_changed_character_fails():
    key = bytes(range(32))
    rec = str(uuidlib.uuid4())
    for method in P.RECEIPT_METHODS:
        code = P.receipt_code(key, "dev-0a1b2c3d4e5f", rec, date(2026, 12, 2), method)
        text = code.text
        assert len(text) == 34 and text.count("-") == 6  # 7 groups of 4
        # typed in lower case, without dashes, with O/I/L for 0/1/1: the same code
        loose = text.replace("-", " ").lower().replace("0", "o").replace("1", "l")
        back, uuid, sig = P.receipt_parse(loose)
        assert back == code and uuid is None and sig is None
        assert P.receipt_check(key, back)
        assert back.device_id == "dev-0a1b2c3d4e5f" and back.day == date(2026, 12, 2) and back.method == method
        assert rec.startswith(back.ref)
        assert not P.receipt_check(bytes(32), back)  # another terminal's key
        for pos in range(28):
            try:
                tampered, _, _ = P.receipt_parse(_changed(text, pos))
            except P.ProtocolError:
                continue  # e.g. a version or method that does not exist
            assert not P.receipt_check(key, tampered), f"changed symbol {pos} still verifies"


def test_code_carries_no_personal_data_and_refuses_garbage():
    code = P.receipt_code(bytes(32), "dev-000000000001", str(uuidlib.uuid4()), date(2026, 1, 5), "face")
    for bad in ("", "1234", code.text + "X", code.text[:-1] + "U", "CKRZ1:" + code.text):
        with pytest.raises(P.ProtocolError) as e:
            P.receipt_parse(bad)
        assert e.value.code == "receipt_malformed"
    with pytest.raises(P.ProtocolError):  # only the hub's own device ids make codes
        P.receipt_code(bytes(32), "kiosk-unnamed", str(uuidlib.uuid4()), date(2026, 1, 5), "face")


def test_qr_holds_the_code_the_uuid_and_a_full_signature():
    rec = str(uuidlib.uuid4())
    code = P.receipt_code(bytes(32), "dev-00000000abcd", rec, date(2026, 3, 5), "staff_witness")
    signer = P.new_signing_key()
    qr = P.receipt_qr_text(code, rec, signer)
    assert qr.startswith("CKRZ1:" + code.text + ":") and qr == qr.upper()
    back, uuid, sig = P.receipt_parse(qr)
    assert back == code and uuid == rec
    assert P.verify_signature(signer.public_key(), sig, P.receipt_sign_message(back, uuid))
    assert not P.verify_signature(P.new_signing_key().public_key(), sig, P.receipt_sign_message(back, uuid))
    other = str(uuidlib.UUID(rec[:8] + "0" * 24))  # same first 8 digits, another record
    assert not P.verify_signature(signer.public_key(), sig, P.receipt_sign_message(back, other))


# ------------------------------------------------------------------ terminal and county
def _slip(store, ref="LAST") -> R.Receipt:
    return R.build(store, ref, rule=RULE, terminal_name="东村服务点-1")


def test_receipt_verifies_on_the_terminal_and_at_the_county(hub, terminal):
    from kiosk.county.receipts import verify

    store, ident = terminal
    rid = people(1)[0]
    fill(store, [rid], certs_per_person=1)  # one pass at T0
    slip = _slip(store)
    assert slip.kind == "certification" and slip.method == "face" and slip.status == "pass"
    assert slip.id_masked == mask_id(rid) and slip.name_masked == "居*0"
    assert slip.at.tzinfo is not None and slip.at.date() == date(2026, 3, 5)
    assert slip.valid_until == RULE.period(birth_date(rid), date(2026, 3, 5)).end
    assert slip.device_id == ident.device_id and slip.code and slip.qr
    assert rid not in slip.code and rid not in slip.qr and "居" not in slip.qr

    # on the terminal: its own code is genuine; a changed character is not
    assert R.verify_here(store, slip.code).result == "genuine"
    assert R.verify_here(store, slip.qr).result == "genuine"
    assert R.verify_here(store, _changed(slip.code, 20)).result == "not_genuine"
    for pos in range(28):
        try:
            assert R.verify_here(store, _changed(slip.code, pos)).result != "genuine"
        except R.ReceiptError:
            pass

    # at the county before the record arrived: genuine, not received yet
    check = verify(hub.db, slip.code)
    assert check.result == "genuine_not_received", check.to_json()
    sync_once(store)
    check = verify(hub.db, slip.code)
    assert check.result == "genuine", check.to_json()
    assert check.record["resident"] == mask_id(rid) and check.record["status"] == "pass"
    assert verify(hub.db, slip.qr).result == "genuine"
    for pos in range(28):
        try:
            bad = verify(hub.db, _changed(slip.code, pos))
        except P.ProtocolError:
            continue
        assert bad.result == "not_genuine", (pos, bad.to_json())
    # a QR whose signature is another device's
    code, uuid, _ = P.receipt_parse(slip.qr)
    forged = P.receipt_qr_text(code, uuid, P.new_signing_key())
    assert verify(hub.db, forged).to_json()["reason"] == "bad_signature"


def test_failed_attempt_has_no_receipt_and_last_is_the_latest(terminal):
    store, _ident = terminal
    a, b, c = people(3, start=40)
    uuids = fill(store, [a, b, c], certs_per_person=3)  # the 3rd try of each is a fail
    with pytest.raises(R.ReceiptError) as e:
        _slip(store, uuids[2])
    assert e.value.code == "not_pass"
    assert _slip(store).record_uuid == uuids[-2]  # c's second try: the latest pass
    assert R.build(store, "LAST", rule=RULE, terminal_name="t", resident_id=a).record_uuid == uuids[1]
    with pytest.raises(R.ReceiptError):
        R.build(store, "LAST", rule=RULE, terminal_name="t", resident_id=people(1, start=60)[0])
    assert _slip(store, uuids[0][:8]).record_uuid == uuids[0]
    with pytest.raises(R.ReceiptError) as e:
        _slip(store, "ffffffff")
    assert e.value.code == "not_found"


def test_fallback_receipt_pending_then_county_decision(hub, terminal):
    from kiosk.county.receipts import verify

    store, ident = terminal
    rid = people(1, start=70)[0]
    fill(store, [rid], certs_per_person=0)
    fb = fallbacks.record(store, resident_id=rid, category="pension", method="relative_pledge",
                          reason="cannot_perform_actions", operator="李主任", device_id=ident.device_id,
                          relative=Relative("王小明", "子女", people(1, start=71)[0], "13800000000"),
                          at=T0 + timedelta(days=1))
    slip = _slip(store)
    assert slip.kind == "fallback" and slip.record_uuid == fb.uuid
    assert slip.method == "relative_pledge" and slip.status == "pending_county_review"
    assert "审核通过后" in dict(slip.rows())["有效期至"]
    assert verify(hub.db, slip.code).result == "genuine_not_received"
    sync_once(store)
    check = verify(hub.db, slip.code)
    assert check.result == "genuine" and check.record["status"] == "pending"
    hub.db.decide_fallback(ident.device_id, fb.uuid, "approved", "admin")
    assert verify(hub.db, slip.qr).record["status"] == "approved"


def test_other_terminals_codes_are_checked_at_the_county(hub, terminal, tmp_path):
    from test_sync_support import open_store

    store, _ = terminal
    fill(store, people(1, start=90))
    slip = _slip(store)
    other = open_store(tmp_path / "t2")
    register(other, hub.url, hub.db.provision("东村"), "西村服务点")
    v = R.verify_here(other, slip.code)
    assert v.result == "other_terminal" and "kiosk-county receipt verify" in v.message
    other.close()


# ------------------------------------------------------------------ commands, page, PDF, printer
@pytest.fixture
def cli_terminal(kiosk_home, hub):
    kiosk_home.mkdir(parents=True, exist_ok=True)
    store = Store.open(kiosk_home / "kiosk.db", key_file())
    ident = register(store, hub.url, hub.db.provision("东村"), "东村服务点")
    (kiosk_home / "kiosk.toml").write_text('device_id = "东村服务点-1"\n', encoding="utf-8")
    rid = people(1, start=120)[0]
    store.upsert_resident(rid, "王秀英", village="东村")
    hub.db.upsert_residents([{"id_number": rid, "name": "王秀英", "village": "东村"}])
    fill(store, [rid])
    yield store, ident, rid
    store.close()


def test_cli_receipt_pdf_and_county_verify(cli_terminal, hub, capsys, tmp_path):
    from kiosk.county.cli import main as county_main

    store, ident, rid = cli_terminal
    code, lines, _ = run_cli(capsys, "receipt", "LAST", "--json")
    assert code == 0 and lines[0]["id"] == mask_id(rid) and lines[0]["status"] == "pass"
    slip_code = lines[0]["code"]
    code, lines, _ = run_cli(capsys, "receipt", "LAST", "--resident", rid, "--json")
    assert code == 0 and lines[0]["code"] == slip_code
    code, lines, _ = run_cli(capsys, "receipt", "LAST", "--resident", rid[:-1], "--json")
    assert code == 2 and lines[0]["error"] == "length"
    pdf = tmp_path / "回执.pdf"
    code, lines, _ = run_cli(capsys, "receipt", "LAST", "--pdf", pdf, "--json")
    assert code == 0 and pdf.is_file()
    if shutil.which("pdftotext"):
        words = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                               check=True).stdout
        for expected in ("认证回执", mask_id(rid), "王*英", "人脸识别认证", "认证成功", "有效期至", slip_code,
                         "东村服务点-1", ident.device_id):
            assert expected in "".join(words.split()), (expected, words)
        assert rid not in words and "王秀英" not in words
    shots = os.environ.get("KIOSK_RECEIPT_SHOTS")  # the rendered page, for docs/screens.md
    if shots and shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(Path(shots) / "receipt_pdf")],
                       check=True)
    assert run_cli(capsys, "receipt", "verify", slip_code)[2].startswith("真实")
    code, lines, _ = run_cli(capsys, "receipt", "verify", _changed(slip_code, 20), "--json")
    assert code == 0 and lines[0]["result"] == "not_genuine"
    # a changed character in the terminal's id names another terminal: checked at the county, never genuine here
    code, lines, _ = run_cli(capsys, "receipt", "verify", _changed(slip_code, 3), "--json")
    assert code == 0 and lines[0]["result"] == "other_terminal"
    code, lines, _ = run_cli(capsys, "receipt", "verify", "not-a-code", "--json")
    assert code == 2 and lines[0]["error"] == "receipt_malformed"
    code, lines, _ = run_cli(capsys, "receipt", "LAST", "--print", "--json")
    assert code == 2 and lines[0]["error"] == "no_printer"

    county = ["--db", hub.db.url, "--hub-key", str(tmp_path / "county" / "hub.key"), "--json"]
    sync_once(store)
    capsys.readouterr()
    assert county_main(["receipt", "verify", slip_code, *county]) == 0
    out = capsys.readouterr().out
    assert '"result": "genuine"' in out and mask_id(rid) in out
    assert county_main(["receipt", "verify", _changed(slip_code, 27), *county]) == 0
    assert '"result": "not_genuine"' in capsys.readouterr().out
    assert county_main(["receipt", "verify", "XXXX", *county]) == 2


def test_hub_receipt_page_needs_a_login_and_answers(cli_terminal, hub):
    import httpx

    store, _ident, rid = cli_terminal
    slip = _slip(store)
    r = httpx.get(hub.url + "/receipt", params={"code": slip.code}, follow_redirects=False)
    assert r.status_code in (303, 307) and "/login" in r.headers["location"]
    c = staff_client(hub, "viewer1", "viewer")
    try:
        page = c.get("/receipt", params={"code": slip.code}).text
        assert "核验认证回执" in page and "县里还没有收到" in page
        sync_once(store)
        page = c.get("/receipt", params={"code": slip.code}).text
        assert "真实：县里已收到" in page and mask_id(rid) in page and "王*英" in page and rid not in page
        shots = os.environ.get("KIOSK_RECEIPT_SHOTS")  # the page's HTML, for the docs/screens.md screenshot
        if shots:
            (Path(shots) / "receipt_hub.html").write_text(page, encoding="utf-8")
        page = c.get("/receipt", params={"code": _changed(slip.code, 10)}).text
        assert "不是真的" in page
        assert "不是有效的回执验证码" in c.get("/receipt", params={"code": "<b>x</b>"}).text
        assert "<b>x</b>" not in c.get("/receipt", params={"code": "<b>x</b>"}).text
    finally:
        c.close()


def test_escpos_bytes_on_the_dummy_printer(terminal):
    from escpos.printer import Dummy

    store, _ = terminal
    fill(store, people(1, start=150))
    slip = _slip(store)
    for paper in (58, 80):
        printer = Dummy()
        R.print_escpos(slip, printer, paper, datetime(2026, 3, 5, 9, 30, tzinfo=timezone.utc))
        out = printer.output
        assert out.startswith(b"\x1b@")  # ESC @ initialise
        assert R.FS_CHINESE_ON in out  # FS &: Chinese mode
        assert "认证回执".encode("gb18030") in out and slip.id_masked.encode("gb18030") in out
        assert "人脸识别认证".encode("gb18030") in out and slip.name_masked.encode("gb18030") in out
        assert "认证回执".encode() not in out
        assert b"\x1d(k" in out and slip.qr.encode("ascii") in out  # GS ( k: the printer's own QR
        assert slip.code.encode("ascii") in out
        assert out.rstrip(b"\x00").endswith(b"\x1dV\x00") or b"\x1dV" in out[-8:]  # GS V: cut
        width = R.PAPER_CHARS[paper]
        qr_at = out.index(b"\x1d(k")
        for chunk in out[:qr_at].split(b"\n") + out[out.index(b"1Q0", qr_at) + 3:].split(b"\n"):
            # the text after the last command (ESC/GS x n: 3 bytes) on each printed line
            last = max(chunk.rfind(b"\x1b"), chunk.rfind(b"\x1d"))
            words = (chunk[last + 3:] if last >= 0 else chunk).decode("gb18030")
            limit = (42 if paper == 58 else 64) if b"\x1bM\x01" in chunk else width  # Font B is narrower
            assert R._width(words) <= limit, (paper, words)
        assert (b"\x1bM\x01" in out) == (paper == 58)  # the code in Font B on 58 mm


def test_printer_settings_are_checked():
    assert validate({"printer_kind": "network", "printer_device": "192.168.1.50:9100"}).printer_device
    assert validate({"printer_kind": "file", "printer_device": "/dev/usb/lp0", "printer_paper_mm": 80}).printer_paper_mm == 80
    assert Settings().printer_kind == "none" and Settings().printer == ""
    for bad, key in (({"printer_paper_mm": 70}, "printer_paper_mm"), ({"printer_kind": "lpt"}, "printer_kind"),
                     ({"printer_kind": "usb"}, "printer_kind"),
                     ({"printer_kind": "file", "printer_device": "lp0"}, "printer_device"),
                     ({"printer_kind": "file"}, "printer_device")):
        with pytest.raises(Exception) as e:
            validate(bad)
        assert getattr(e.value, "key", None) == key and "请" in e.value.message


def test_unregistered_terminal_slip_says_there_is_no_code(kiosk_home, capsys):
    kiosk_home.mkdir(parents=True, exist_ok=True)
    with Store.open(kiosk_home / "kiosk.db", key_file()) as store:
        fill(store, people(1, start=160))
        slip = _slip(store)
        assert slip.code is None and slip.qr is None and slip.device_id is None
        assert R.verify_here(store, P.receipt_code(bytes(32), "dev-000000000001", str(uuidlib.uuid4()),
                                                   date(2026, 3, 5), "face").text).result == "not_registered"
    code, _, out = run_cli(capsys, "receipt", "LAST")
    assert code == 0 and "没有验证码" in out


def test_the_self_test_sees_the_configured_printer(tmp_path):
    from dataclasses import replace

    from kiosk.selftest import check_printer

    assert check_printer(Settings()).state == "skipped"
    lp = tmp_path / "lp0"
    settings = replace(Settings(), printer_kind="file", printer_device=str(lp))
    assert check_printer(settings).state == "warn"  # not plugged in
    lp.write_bytes(b"")
    assert check_printer(settings).state == "ok"
