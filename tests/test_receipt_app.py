"""The receipt on the app's result screen (kiosk/app/receipt.py, ui/ReceiptPanel.qml): after a real
face check on the virtual camera, on a terminal registered with a real local hub, the result screen
shows the verification code; in elder mode the QR, large enough to photograph, whose text verifies
at the county; 打印回执 with a printer configured prints on python-escpos's Dummy printer.

`KIOSK_RECEIPT_SHOTS=DIR` also saves the result screen (elder off/on, 1366x768 and 1080x1920)."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from test_app import CHECK_TIMEOUT_MS, demo, demo_master, encoder, make_app  # noqa: F401  (fixtures)
from test_sync_support import hub  # noqa: F401  (fixture)
from test_app_visits import make_kiosk, village  # noqa: F401  (fixtures)

from kiosk.app import driver
from kiosk.config import Settings


@pytest.mark.slow
def test_result_screen_shows_the_receipt_qr_in_elder_mode_and_prints(make_app, demo, hub, qtbot):
    from escpos.printer import Dummy

    from kiosk import protocol as P
    from kiosk.county.receipts import verify
    from kiosk.store import Store
    from kiosk.sync import register

    store = Store.open(demo.db_path, demo.key_path)
    ident = register(store, hub.url, hub.db.provision("东村"), "东村服务点")
    settings = replace(Settings(), printer_kind="file", printer_device="/dev/usb/lp0", printer_paper_mm=58,
                       device_id="东村服务点-1")
    h = make_app(store=store, settings=settings, elder=True)
    k = h.k
    dummy = Dummy()
    k.receipt._printer_factory = lambda: dummy
    h.to_face("王秀英")
    h.wait_screen("result", CHECK_TIMEOUT_MS)
    assert k.flow.result["ok"], k.flow.result
    qtbot.waitUntil(lambda: k.receipt.available, timeout=5_000)
    qtbot.wait(50)

    qr = driver.find(h.window, "receiptQr")
    assert qr is not None and qr.property("text") == k.receipt.qr
    modules = qr.property("modules")
    side = min(qr.width(), qr.height())
    assert side // modules >= 4, (side, modules)  # at least 4 px a module: a phone photographs it
    assert side >= 0.25 * min(h.window.width(), h.window.height())
    assert k.receipt.code in h.text("receiptCode")
    assert "拍下" in h.text("receiptHint")
    code, uuid, _sig = P.receipt_parse(k.receipt.qr)
    assert code.device_id == ident.device_id and uuid == k.flow.result["receipt"]
    assert verify(hub.db, k.receipt.qr).result == "genuine_not_received"

    shots = os.environ.get("KIOSK_RECEIPT_SHOTS")
    if shots:
        _shoot(h, qtbot, Path(shots))

    h.tap("btnPrintReceipt")
    qtbot.waitUntil(lambda: k.receipt.status == "回执已打印，请取走。", timeout=10_000)
    assert "认证回执".encode("gb18030") in dummy.output and b"\x1d(k" in dummy.output and b"\x1dV" in dummy.output
    assert any(e["action"] == "receipt_issued" for e in store.audit_entries())

    # elder mode off: no QR, the code is still there; home forgets the receipt
    k.app.setElder(False)
    qtbot.wait(50)
    assert driver.find(h.window, "receiptQr") is None and k.receipt.code in h.text("receiptCode")
    h.tap("btnResultHome")
    h.wait_screen("home")
    assert not k.receipt.available and k.receipt.code == ""


def _shoot(h, qtbot, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for (w, ht), elder in (((1366, 768), True), ((1366, 768), False), ((1080, 1920), True), ((1080, 1920), False)):
        h.k.app.setElder(elder)
        h.window.resize(w, ht)
        qtbot.wait(700)  # the theme's transitions
        name = f"receipt_result_{'elder' if elder else 'plain'}_{w}x{ht}.png"
        assert h.window.grabWindow().save(str(folder / name))
    h.window.resize(1366, 768)
    h.k.app.setElder(True)
    qtbot.wait(700)


def test_a_submitted_fallback_gets_its_receipt_through_watch(qtbot, hub, tmp_path):
    """The fallback's 已提交 screen (another controller) names its record: the same panel follows it."""
    from PySide6.QtCore import QObject, Signal

    from kiosk.app.receipt import ReceiptController
    from kiosk.core.clock import Clock
    from kiosk.store import fallbacks
    from kiosk.store.fallbacks import Relative
    from kiosk.sync import register
    from test_sync_support import fill, open_store, people

    class FallbackScreen(QObject):  # what kiosk/app/fallback.py exposes: `changed` and `submitted`
        changed = Signal()
        submitted: dict = {}

    store = open_store(tmp_path / "t")
    ident = register(store, hub.url, hub.db.provision("东村"), "东村服务点")
    rid, son = people(2, start=300)
    fill(store, [rid], certs_per_person=0)
    fb = fallbacks.record(store, resident_id=rid, category="pension", method="relative_pledge",
                          reason="cannot_perform_actions", operator="李主任", device_id=ident.device_id,
                          relative=Relative("王小明", "子女", son, "13800000000"))
    screen = FallbackScreen()
    receipt = ReceiptController(store, Settings(), Clock.system())
    receipt.watch(screen.changed, lambda: screen.submitted.get("uuid", ""))
    screen.submitted = {"uuid": fb.uuid}
    screen.changed.emit()
    assert receipt.available and receipt.slip["method"] == "relative_pledge"
    assert receipt.slip["status"] == "pending_county_review" and receipt.code and not receipt.canPrint
    screen.submitted = {}
    screen.changed.emit()
    assert not receipt.available and receipt.code == ""
    store.close()


def test_the_submitted_fallback_screen_shows_its_receipt(qtbot, hub, village, make_kiosk):
    """不刷脸认证 through the app (the staff member's form, as tests/test_app_visits.py drives it): the
    已提交 screen shows the fallback's receipt, whose code the county recognises."""
    from kiosk.county.receipts import verify
    from kiosk.sync import register
    from test_app_visits import SOON, tap, type_keys, wait_screen

    store, _ = village
    register(store, hub.url, hub.db.provision("东村"), "东村服务点")
    k = make_kiosk(elder=True)
    k.fallback.open()
    wait_screen(qtbot, k, "identity")
    type_keys(qtbot, k, SOON)
    wait_screen(qtbot, k, "fallback")
    tap(k, "fb_method_staff_witness")
    tap(k, "fb_reason_cannot_perform_actions")
    tap(k, "btnFallbackSubmit")
    wait_screen(qtbot, k, "submitted")
    qtbot.waitUntil(lambda: k.receipt.available, timeout=5_000)
    qtbot.wait(50)
    assert k.receipt.slip["method"] == "staff_witness" and k.receipt.slip["status"] == "pending_county_review"
    assert k.receipt.slip["record"] == k.fallback.submitted["uuid"]
    qr = driver.find(k.window, "receiptQr")
    assert qr is not None and qr.property("text") == k.receipt.qr
    assert k.receipt.code in driver.text_of(k.window, "receiptCode")
    assert verify(hub.db, k.receipt.code).result == "genuine_not_received"
    shots = os.environ.get("KIOSK_RECEIPT_SHOTS")
    if shots:
        qtbot.wait(900)  # the screen's fade-in (elder mode is slower)
        assert k.window.grabWindow().save(str(Path(shots) / "receipt_submitted_elder_1366x768.png"))
    tap(k, "btnSubmittedHome")
    wait_screen(qtbot, k, "home")
    assert not k.receipt.available
