"""The resident's receipt on the result screen (认证回执): its QR for a relative's phone (elder mode)
and 打印回执 on the configured thermal printer.

`Receipt` (QML singleton) follows KioskFlow: when the result names a record (`result.receipt`: the
passed attempt's UUID; other screens, such as the fallback's 已提交, are added with `watch`), it builds the slip through kiosk.receipt
(the same code, QR and words as `kiosk receipt`); when the flow forgets the resident, so does it.
`QrCode` is a painted item drawing a QR's modules (qrcode library), crisp at any size.
Printing runs on a worker thread (a USB or network printer may take seconds); its outcome comes
back to the UI thread as a signal, and the store (audit) is touched only there.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import Property, QObject, QRectF, Signal, Slot
from PySide6.QtGui import QColor, QPainter
from PySide6.QtQml import QmlElement, QmlNamedElement, QmlSingleton
from PySide6.QtQuick import QQuickPaintedItem

from kiosk import receipt as R
from kiosk.app import qml
from kiosk.texts import text

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

log = logging.getLogger(__name__)


@QmlElement
class QrCode(QQuickPaintedItem):
    """A QR code of `text` (dark modules on white, quiet zone included), scaled to whole pixels."""

    textChanged = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._text = ""
        self._matrix: list[list[bool]] = []
        self.setOpaquePainting(True)

    def _get_text(self) -> str:
        return self._text

    def _set_text(self, value: str) -> None:
        if value == self._text:
            return
        self._text = value
        self._matrix = R.qr_matrix(value, border=4) if value else []
        self.textChanged.emit()
        self.update()

    text = Property(str, _get_text, _set_text, notify=textChanged)
    modules = Property(int, lambda s: len(s._matrix), notify=textChanged)

    def paint(self, painter: QPainter) -> None:
        w, h = self.width(), self.height()
        painter.fillRect(QRectF(0, 0, w, h), QColor("#FFFFFF"))
        n = len(self._matrix)
        if not n:
            return
        cell = max(1, int(min(w, h) // n))  # whole pixels per module: no blurred edges for the camera
        x0, y0 = (w - cell * n) // 2, (h - cell * n) // 2
        dark = QColor("#000000")
        for r, row in enumerate(self._matrix):
            for c, on in enumerate(row):
                if on:
                    painter.fillRect(QRectF(x0 + c * cell, y0 + r * cell, cell, cell), dark)


@QmlNamedElement("Receipt")
@QmlSingleton
class ReceiptController(QObject):  # type: ignore[operator]  # PySide6 stub gap (QmlNamedElement)
    changed = Signal()
    _printed = Signal(str, str)  # (state: done | failed, detail) from the printing thread

    def __init__(self, store, settings, clock, flow=None, *, printer_factory=None, parent: QObject | None = None):
        super().__init__(parent)
        self.store, self.settings, self.clock = store, settings, clock
        self._printer_factory = printer_factory or (lambda: R.open_printer(self.settings))
        self._slip: R.Receipt | None = None
        self._ref = ""
        self._state = ""  # "" | printing | done | failed
        self._printed.connect(self._on_printed)
        self._sources: list[Callable[[], str]] = []
        if flow is not None:
            self.watch(flow.changed, lambda: str((flow.result or {}).get("receipt") or ""))

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("Receipt")

    # ------------------------------------------------------------------ following the flow
    def watch(self, signal, record: Callable[[], str]) -> None:
        """Another screen that can name a record (e.g. the fallback controller once a fallback is
        submitted: `watch(fallback.changed, lambda: fallback.submitted.get("uuid", ""))`): when
        `signal` fires, the receipt follows the first source naming a record, or is forgotten."""
        self._sources.append(record)
        signal.connect(self._follow)

    @Slot()
    def _follow(self) -> None:
        ref = next((r for r in (src() for src in self._sources) if r), "")
        if ref != self._ref:
            self.load(ref) if ref else self.forget()

    @Slot(str)
    def load(self, ref: str) -> None:
        """The slip of this record (an attempt or fallback UUID); nothing if it has none."""
        from kiosk.sync import cycle_rule

        self._ref, self._state = ref, ""
        try:
            self._slip = R.build(self.store, ref, rule=cycle_rule(self.store, self.settings),
                                 terminal_name=self.settings.device_id)
        except Exception:  # noqa: BLE001 - no receipt must never stop the result screen
            log.exception("no receipt for %s", ref)
            self._slip = None
        self.changed.emit()

    @Slot()
    def forget(self) -> None:
        self._ref, self._slip, self._state = "", None, ""
        self.changed.emit()

    # ------------------------------------------------------------------ printing
    @Slot()
    def printReceipt(self) -> None:
        slip = self._slip
        if slip is None or self._state == "printing" or not self.canPrint:
            return
        self._state = "printing"
        self.changed.emit()
        now = self.clock.now()
        paper = self.settings.printer_paper_mm

        def work() -> None:
            try:
                R.print_escpos(slip, self._printer_factory(), paper, now)
            except R.ReceiptError as e:
                self._printed.emit("failed", e.message)
                return
            except Exception as e:  # noqa: BLE001 - a driver failure is shown, never raised into Qt
                self._printed.emit("failed", str(e))
                return
            self._printed.emit("done", slip.record_uuid)

        threading.Thread(target=work, name="receipt-print", daemon=True).start()

    @Slot(str, str)
    def _on_printed(self, state: str, detail: str) -> None:
        if state == "done":
            try:
                self.store.audit("kiosk", "receipt_issued", {"record": detail, "to": "printer"})
            except Exception:  # noqa: BLE001 - the slip is printed; a failed audit row is logged
                log.exception("could not audit the printed receipt")
        else:
            log.warning("receipt printer: %s", detail)
        if self._slip is not None:
            self._state = state
            self.changed.emit()

    # ------------------------------------------------------------------ what QML reads
    def _status(self) -> str:
        return {"printing": text("ui_receipt_printing"), "done": text("ui_receipt_printed"),
                "failed": text("ui_receipt_print_failed")}.get(self._state, "")

    def _view(self) -> dict[str, Any]:
        return self._slip.to_json() if self._slip else {}

    available = Property(bool, lambda s: s._slip is not None and bool(s._slip.qr), notify=changed)
    code = Property(str, lambda s: (s._slip.code or "") if s._slip else "", notify=changed)
    qr = Property(str, lambda s: (s._slip.qr or "") if s._slip else "", notify=changed)
    canPrint = Property(bool, lambda s: s._slip is not None and s.settings.printer_kind != "none", notify=changed)
    printing = Property(bool, lambda s: s._state == "printing", notify=changed)
    status = Property(str, _status, notify=changed)
    slip = Property("QVariantMap", _view, notify=changed)  # type: ignore[arg-type]  # PySide6 stub gap
