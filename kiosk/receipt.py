"""The resident's receipt (认证回执): after a face pass, or a certification without a face
submitted for the county's review.

A slip with the masked name and ID number, the date and time, the method, valid until (the cycle
rule in force, kiosk.policy), the terminal, and a verification code plus a QR code
(kiosk.protocol "receipt codes": no personal data in either, the code's tag keyed by the
terminal's and the county's X25519 keys, the QR signed with the terminal's Ed25519 sync key).

Outputs: a PDF (reportlab, the shipped Chinese font), an ESC/POS thermal printer (python-escpos:
58 or 80 mm, text in GB18030 after FS &, native QR command, cut), the QR as a module matrix for
the app. `verify_here` checks a code on the terminal that issued it; every other terminal's
receipts are checked at the county (`kiosk-county receipt verify`).

Engine code: no Qt. Words come from the catalogue (kiosk.texts, "receipt_*").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiosk import protocol as P
from kiosk.core.errors import KioskError
from kiosk.core.ids import birth_date, mask_id, mask_name
from kiosk.texts import category_label, cn_date, text

STATUSES = ("pass", "pending_county_review", "approved", "rejected")
PAPER_CHARS = {58: 32, 80: 48}  # Font A half-width columns (a CJK character takes two); Font B: 42 / 64


class ReceiptError(KioskError):
    """A receipt cannot be made or output: the code says why, the message what to do."""


def _error(code: str, **data: Any) -> ReceiptError:
    return ReceiptError(code, text(f"receipt_error_{code}", **data))


@dataclass(frozen=True)
class Receipt:
    kind: str  # "certification" (a face pass) or "fallback" (certification without a face)
    record_uuid: str  # the attempt's or the fallback's UUID
    name_masked: str
    id_masked: str
    category: str
    at: datetime  # local time of the pass or the submission
    method: str  # face | staff_witness | relative_pledge
    status: str  # one of STATUSES
    valid_until: date | None
    terminal: str  # the terminal's own name (kiosk.toml device_id) and its county id
    device_id: str | None  # the county's id for this terminal (None: not registered)
    code: str | None  # XXXX-XXXX-… (None: not registered)
    qr: str | None  # the QR's text

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) lines of the slip, in order, in words."""
        until = ""
        if self.valid_until is not None:
            until = (text("receipt_valid_if_approved", until=self.valid_until) if self.status == "pending_county_review"
                     else cn_date(self.valid_until))
        rows = [
            (text("receipt_name"), self.name_masked),
            (text("receipt_id"), self.id_masked),
            (text("receipt_category"), category_label(self.category)),
            (text("receipt_date"), self.at.strftime("%Y-%m-%d %H:%M")),
            (text("receipt_method"), text(f"receipt_method_{self.method}")),
            (text("receipt_result"), text(f"receipt_result_{self.status}")),
        ]
        if until and self.status != "rejected":
            rows.append((text("receipt_valid_until"), until))
        rows.append((text("receipt_terminal"), self.terminal))
        return rows

    def to_json(self) -> dict:
        return {"kind": self.kind, "record": self.record_uuid, "name": self.name_masked, "id": self.id_masked,
                "category": self.category, "at": self.at.isoformat(timespec="minutes"), "method": self.method,
                "status": self.status, "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "terminal": self.terminal, "device_id": self.device_id, "code": self.code, "qr": self.qr}


# ------------------------------------------------------------------------------ finding the record
_ATTEMPT_COLS = "uuid, finished_at AS at, 'certification' AS kind"
_FALLBACK_COLS = "uuid, created_at AS at, 'fallback' AS kind"


def _has_fallbacks(store) -> bool:
    return bool(store.db["fallbacks"].exists())


def _find(store, ref: str, resident_id: str | None = None) -> tuple[str, str]:
    """(kind, uuid) for LAST (this terminal's latest, or one resident's) or a record id (a UUID or
    its first 8+ characters)."""
    if ref.strip().upper() == "LAST":
        who, args = ("", []) if resident_id is None else (" AND resident_id = ?", [store._ref(resident_id)])
        q = f"SELECT {_ATTEMPT_COLS} FROM attempts WHERE verdict = 'pass'{who}"
        if _has_fallbacks(store):
            q += f" UNION ALL SELECT {_FALLBACK_COLS} FROM fallbacks WHERE status != 'rejected'{who}"
            args = args * 2
        row = store.db.execute(q + " ORDER BY at DESC LIMIT 1", args).fetchone()
        if row is None:
            raise _error("none")
        return row[2], row[0]
    prefix = ref.strip().lower()
    if not re.fullmatch(r"[0-9a-f-]{8,36}", prefix):
        raise _error("not_found", detail=ref)
    q = f"SELECT {_ATTEMPT_COLS}, verdict FROM attempts WHERE uuid LIKE ?"
    if _has_fallbacks(store):
        q += f" UNION ALL SELECT {_FALLBACK_COLS}, 'pass' FROM fallbacks WHERE uuid LIKE ?"
        args = [prefix + "%", prefix + "%"]
    else:
        args = [prefix + "%"]
    rows = store.db.execute(q, args).fetchall()
    if not rows:
        raise _error("not_found", detail=ref)
    if len(rows) > 1:
        raise _error("ambiguous", detail=ref)
    uuid, _at, kind, verdict = rows[0]
    if verdict != "pass":
        raise _error("not_pass")
    return kind, uuid


def _identity(store):
    from kiosk.store.syncstate import SyncState

    return SyncState(store).identity()


def tag_key(ident) -> bytes:
    """The receipt tag key of this terminal (its box key with the county's)."""
    shared = P.box_key_from(ident.box_key).exchange(P.box_public_from(ident.hub_box_pub))
    return P.receipt_tag_key(shared, ident.device_id)


def build(store, ref: str, *, rule, terminal_name: str, resident_id: str | None = None) -> Receipt:
    """The receipt of a passed attempt or a fallback (`ref`: LAST, or its record id); with
    `resident_id`, LAST is that resident's latest."""
    from kiosk.policy import valid_until_after
    from kiosk.store import fallbacks

    kind, uuid = _find(store, ref, resident_id)
    if kind == "certification":
        attempt = store._attempt(next(iter(store.db.query("SELECT * FROM attempts WHERE uuid = ?", [uuid]))))
        resident_id, category, when, method, status = (attempt.resident_id, attempt.category, attempt.finished_at,
                                                       "face", "pass")
    else:
        fb = fallbacks.get(store, uuid)
        if fb is None:
            raise _error("not_found", detail=ref)
        resident_id, category, when, method, status = fb.resident_id, fb.category, fb.created_at, fb.method, fb.status
    at = datetime.fromisoformat(when).astimezone(store.clock.tz)
    resident = store.get_resident(resident_id)
    if resident is None:
        raise _error("resident")
    born = resident.birth_date or birth_date(resident_id)
    until = valid_until_after(rule, born, at.date()) if status != "rejected" else None
    ident = _identity(store)
    code = qr = None
    terminal = terminal_name
    if ident is not None:
        c = P.receipt_code(tag_key(ident), ident.device_id, uuid, at.date(), method)
        code, qr = c.text, P.receipt_qr_text(c, uuid, P.signing_key_from(ident.sign_key))
        terminal = text("engine_name_with_id", name=terminal_name, id=ident.device_id)
    return Receipt(kind=kind, record_uuid=uuid, name_masked=mask_name(resident.name), id_masked=mask_id(resident_id),
                   category=category, at=at, method=method, status=status, valid_until=until, terminal=terminal,
                   device_id=ident.device_id if ident else None, code=code, qr=qr)


# ------------------------------------------------------------------------------ verification here
@dataclass(frozen=True)
class Verification:
    result: str  # genuine | not_genuine | other_terminal | no_record | not_registered
    code: P.ReceiptCode | None = None
    detail: str = ""

    @property
    def message(self) -> str:
        return text(f"receipt_verify_{self.result}", detail=self.detail)

    def to_json(self) -> dict:
        c = self.code
        return {"result": self.result, "message": self.message,
                "device_id": c.device_id if c else None, "date": c.day.isoformat() if c else None,
                "method": c.method if c else None}


def verify_here(store, code_text: str) -> Verification:
    """Check a receipt code (or QR text) issued by this terminal, with this terminal's keys."""
    try:
        code, uuid, sig = P.receipt_parse(code_text)
    except P.ProtocolError as e:
        raise ReceiptError(e.code, e.message) from None
    ident = _identity(store)
    if ident is None:
        return Verification("not_registered", code)
    if code.device_id != ident.device_id:
        return Verification("other_terminal", code, code.device_id)
    if not P.receipt_check(tag_key(ident), code):
        return Verification("not_genuine", code)
    if uuid is not None and sig is not None:
        pub = P.signing_key_from(ident.sign_key).public_key()
        if not P.verify_signature(pub, sig, P.receipt_sign_message(code, uuid)):
            return Verification("not_genuine", code)
    method_table = "attempts" if code.method == "face" else "fallbacks"
    if method_table == "fallbacks" and not _has_fallbacks(store):
        return Verification("no_record", code, code.ref)
    rows = store.db.execute(f"SELECT uuid FROM {method_table} WHERE uuid LIKE ?", [_uuid_like(code.ref)]).fetchall()
    found = [r[0] for r in rows if uuid is None or r[0] == uuid]
    if not found:
        return Verification("no_record", code, code.ref)
    when = f"{code.day.isoformat()} {text(f'receipt_method_{code.method}')}"
    return Verification("genuine", code, when)


def _uuid_like(ref: str) -> str:
    return ref + "%"  # the first 8 hex digits come before the UUID's first dash


# ------------------------------------------------------------------------------ QR
def qr_matrix(data: str, border: int = 2) -> list[list[bool]]:
    """The QR's modules (True = dark), with a quiet zone of `border` modules."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    qr.add_data(data)
    qr.make(fit=True)
    return [list(row) for row in qr.get_matrix()]


# ------------------------------------------------------------------------------ PDF
def write_pdf(receipt: Receipt, path: Path, printed_at: datetime) -> Path:
    """One A6 page (105 × 148 mm, prints on A4 too): title, the rows, the QR and the code."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A6
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from kiosk.pdf import register_cjk_font

    font = register_cjk_font()  # the shipped Noto Sans SC as TrueType (kiosk.pdf)
    w, h = A6
    c = Canvas(str(path), pagesize=A6, pageCompression=1)
    c.setTitle(text("receipt_title"))
    c.setFont(font, 13)
    c.drawCentredString(w / 2, h - 14 * mm, text("receipt_title"))
    y = h - 24 * mm
    for label, value in receipt.rows():
        c.setFont(font, 9)
        c.drawString(8 * mm, y, label)
        c.setFont(font, 10)
        for i, part in enumerate(_wrap(value, 34)):
            c.drawString(28 * mm, y - i * 5 * mm, part)
        y -= 6 * mm * max(1, len(_wrap(value, 34)))
    if receipt.qr and receipt.code:
        side = 40 * mm
        widget = QrCodeWidget(receipt.qr, barLevel="M")
        x0, y0, x1, y1 = widget.getBounds()
        d = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
        d.add(widget)
        renderPDF.draw(d, c, (w - side) / 2, y - side)
        y -= side + 5 * mm
        c.setFont(font, 9)
        c.drawCentredString(w / 2, y, text("receipt_code"))
        c.setFont("Courier-Bold", 11)
        c.drawCentredString(w / 2, y - 5 * mm, receipt.code)
        y -= 11 * mm
        hint = text("receipt_check_hint")
    else:
        hint = text("receipt_no_code")
    c.setFont(font, 8)
    for part in _wrap(hint, 60):
        c.drawString(8 * mm, y, part)
        y -= 4.5 * mm
    c.drawString(8 * mm, 6 * mm, text("receipt_printed_at", detail=printed_at.strftime("%Y-%m-%d %H:%M")))
    c.showPage()
    try:
        c.save()
    except OSError as e:
        raise _error("pdf", detail=e.strerror or str(e)) from None
    return path


def _width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def _wrap(s: str, cols: int) -> list[str]:
    """Lines of at most `cols` half-width columns (a CJK character counts two)."""
    lines, cur = [], ""
    for ch in s:
        if _width(cur + ch) > cols:
            lines.append(cur)
            cur = ""
        cur += ch
    return lines + [cur] if cur else lines or [""]


# ------------------------------------------------------------------------------ ESC/POS
FS_CHINESE_ON = b"\x1c\x26"  # FS &: Chinese character mode (GB2312/GBK/GB18030 on Chinese printers)
FS_CHINESE_OFF = b"\x1c\x2e"  # FS .
ENCODING = "gb18030"


def open_printer(settings):
    """The configured thermal printer (python-escpos), or ReceiptError if none / unreachable."""
    kind, device = settings.printer_kind, settings.printer_device
    try:
        if kind == "file":
            from escpos.printer import File

            return File(device)
        if kind == "network":
            from escpos.printer import Network

            host, _, port = device.partition(":")
            return Network(host, int(port or 9100), timeout=10)
    except Exception as e:  # noqa: BLE001 - any driver failure is "the printer did not answer"
        raise _error("printer", detail=str(e) or type(e).__name__) from None
    raise _error("no_printer")


def print_escpos(receipt: Receipt, printer, paper_mm: int, printed_at: datetime) -> None:
    """The slip on an ESC/POS printer: Chinese text as GB18030 bytes in FS & mode, the QR with the
    printer's own QR command (GS ( k), a feed and a cut."""
    cols = PAPER_CHARS.get(paper_mm, 32)

    def line(s: str = "") -> None:
        printer._raw(s.encode(ENCODING) + b"\n")

    try:
        printer.hw("INIT")
        printer._raw(FS_CHINESE_ON)
        printer.set(align="center", bold=True, double_height=True, double_width=paper_mm >= 80)
        line(text("receipt_title"))
        printer.set(align="left", bold=False, normal_textsize=True)
        line("-" * cols)
        for label, value in receipt.rows():
            head = text("engine_label", label=label)
            for i, part in enumerate(_wrap(value, cols - _width(head))):
                line((head if i == 0 else " " * _width(head)) + part)
        line("-" * cols)
        if receipt.qr and receipt.code:
            printer.set(align="center")
            printer.qr(receipt.qr, ec=1, size=4 if paper_mm < 80 else 6, native=True, center=False)
            line(text("receipt_code"))
            # 34 characters: Font B (42 columns) on 58 mm paper, Font A (48) on 80 mm
            printer.set(align="center", bold=True, font="b" if paper_mm < 80 else "a")
            line(receipt.code)
            printer.set(align="left", bold=False, font="a", normal_textsize=True)
            hint = text("receipt_check_hint")
        else:
            hint = text("receipt_no_code")
        for part in _wrap(hint, cols):
            line(part)
        line(text("receipt_printed_at", detail=printed_at.strftime("%Y-%m-%d %H:%M")))
        printer._raw(FS_CHINESE_OFF)
        printer.cut()
        close = getattr(printer, "close", None)
        if close is not None and not _is_dummy(printer):
            close()
    except ReceiptError:
        raise
    except Exception as e:  # noqa: BLE001 - a driver error (USB unplugged, paper out, network) for staff
        raise _error("printer", detail=str(e) or type(e).__name__) from None


def _is_dummy(printer) -> bool:
    return type(printer).__name__ == "Dummy"
