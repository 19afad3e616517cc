"""Visits: 上门认证 in the app — the visit list of the terminal's village, one person's page, and
what a staff member does there (certify now, mark 不在家 with a note, certification without a face).

Rules are the engine's: the list is `kiosk.visits.visit_list` (the same query as `kiosk visits`),
a visit is `Store.record_visit` (as `kiosk visits mark`), a certification goes through the
resident flow (KioskFlow: confirm → helper → category → consent → face) with the logged-in
operator recorded on the attempt, a fallback through Fallback (kiosk.app.fallback). The list
holds addresses and phones: it is shown only while an operator is logged in
(`current_operator`, injected: the staff session's), and viewing it is audited like the CLI's.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Property, QObject, QTimer, Signal, Slot
from PySide6.QtQml import QmlNamedElement, QmlSingleton

from kiosk.app import qml
from kiosk.core.errors import KioskError
from kiosk.core.ids import mask_name
from kiosk.store import StoreError
from kiosk.texts import status_label, text

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

log = logging.getLogger(__name__)

# The outcomes offered on the person page, in the order a staff member needs them.
MARK_OUTCOMES = ("not_at_home", "visited_not_certified", "refused", "visited_certified")


def row_view(e) -> dict:
    """One row of the visit list as the screen shows it (VisitEntry → plain strings)."""
    when = (text("visit_suspended_since", date=e.suspended_since) if e.suspended_since
            else text("visit_due_by", date=e.due_by) if e.due_by else "")
    contact = [text("ui_visits_address", address=e.address) if e.address else "",
               text("ui_visits_phone", phone=e.phone) if e.phone else "",
               text("ui_visits_contact", contact=e.contact) if e.contact else ""]
    last = ""
    if e.last_visit:
        last = text("visit_last", date=date.fromisoformat(e.last_visit["at"]), operator=e.last_visit["operator"],
                    outcome=text(f"visit_outcome_{e.last_visit['outcome']}"))
        if e.last_visit.get("note"):
            last += f"  {e.last_visit['note']}"
    return {"name": e.name, "id": e.id_masked, "village": e.village or "", "urgency": e.urgency,
            "urgencyLabel": text(f"visit_urgency_{e.urgency}"), "when": when,
            "contact": "  ".join(c for c in contact if c) or text("ui_visits_no_contact"),
            "hasContact": bool(e.address or e.phone or e.contact),
            "certified": (text("ui_visits_certified_on", date=e.last_certified) if e.last_certified
                          else text("ui_visits_never")),
            "line": "    ".join(x for x in (when, text("ui_visits_certified_on", date=e.last_certified)
                                            if e.last_certified else "") if x) or when,
            "lastVisit": last}


@QmlNamedElement("Visits")
@QmlSingleton
class VisitsController(QObject):  # type: ignore[operator]  # PySide6 stub gap: QmlNamedElement
    changed = Signal()

    def __init__(self, service, flow, current_operator: Callable[[], object | None], *, fallback=None,
                 default_village: str = "", parent: QObject | None = None):
        super().__init__(parent)
        self.service = service
        self.flow = flow
        self.fallback = fallback
        self.current_operator = current_operator
        self._default_village = default_village
        self._village = default_village
        self._entries: list = []
        self._rows: list[dict] = []
        self._villages: list[str] = []
        self._person: dict = {}
        self._person_id = ""
        self._person_entry: object | None = None  # kiosk.visits.VisitEntry
        self._message = ""
        self._message_error = False
        self._note = ""
        flow.changed.connect(self._on_flow)

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("Visits")

    # ------------------------------------------------------------------ state
    def _operator(self) -> str:
        op = self.current_operator()
        return str(getattr(op, "name", "") or "") if op is not None else ""

    def forget(self) -> None:
        """Nothing personal stays once the flow is back home (idle reset, 返回首页)."""
        self._village = self._default_village
        self._entries, self._rows, self._villages = [], [], []
        self._person, self._person_id, self._message, self._note = {}, "", "", ""
        self._person_entry = None
        self.changed.emit()

    def _on_flow(self) -> None:
        if self.flow.screen == "home" and (self._rows or self._person_id):
            # Judged once the flow has settled: it passes through "home" while it clears itself
            # for a new resident (certify_for) without going home.
            QTimer.singleShot(0, self._forget_if_home)
        elif self._person_id:
            self.changed.emit()  # returnable follows the flow's screen

    def _forget_if_home(self) -> None:
        if self.flow.screen == "home":
            self.forget()

    def _load(self, audit: bool = False) -> None:
        from kiosk.service import cycle_rule
        from kiosk.visits import visit_list

        store = self.service.store
        self._villages = sorted({r.village for r in store.list_residents() if r.village})
        village = self._village or None
        self._entries = visit_list(store, self.service.clock, cycle_rule(store, self.service.settings),
                                   village=village)
        self._rows = [row_view(e) for e in self._entries]
        if audit:  # a staff member looked at the list (addresses, phones): as `kiosk visits` does
            store.audit(self._operator(), "visit_list_viewed", {"village": village, "days": 30, "count": len(self._rows),
                                                                "app": True})

    # ------------------------------------------------------------------ slots
    @Slot()
    def open(self) -> None:
        """The staff menu's 上门认证 (area "visits"): the list of the terminal's village."""
        self._person, self._person_id, self._message = {}, "", ""
        if self._operator():
            self._load(audit=True)
        else:
            self._entries, self._rows = [], []
        self.changed.emit()
        self.flow.show("visits")

    @Slot(str)
    def openArea(self, name: str) -> None:
        if name == "visits":
            self.open()
        elif name == "fallback" and self.fallback is not None:
            self.fallback.open()

    @Slot(str)
    def setVillage(self, village: str) -> None:
        self._village = village
        if self._operator():
            self._load(audit=True)
        self.changed.emit()

    @Slot(int)
    def pick(self, index: int) -> None:
        """A row was tapped: that person's page."""
        if not self._operator() or not 0 <= index < len(self._entries):
            return
        self._person_entry = self._entries[index]
        self._person_id = self._entries[index].id_number
        self._message, self._note = "", ""
        self._refresh_person()
        self.flow.show("visit")

    def _refresh_person(self) -> None:
        """The person page, from the list's entry (address, phone…) and the service's status now."""
        entry = next((e for e in self._entries if e.id_number == self._person_id), None)
        if entry is not None:
            self._person_entry = entry
        else:  # certified meanwhile (off the list): the page keeps what the roster said
            entry = self._person_entry
        try:
            view = self.service.lookup(self._person_id)
        except Exception as err:  # noqa: BLE001 - removed from the roster meanwhile
            log.warning("visit person: %s", err)
            view = None
        row = row_view(entry) if entry is not None else {}
        e = self.service.eligibility(self._person_id, "self", view=view) if view is not None else None
        row.update({
            "status": status_label(view.status.kind) if view else "",
            "statusMessage": view.status.message if view else "",
            "canCertify": bool(e and e.may_certify),
            "refusal": "" if e is None or e.may_certify else self.service.refusal(e).message,
            "canFallback": bool(e and e.code in ("ok", "suspended", "attempts_exceeded", "no_template")),
            "maskedName": view.masked_name if view else mask_name(row.get("name", "")),
        })
        self._person = row
        self.changed.emit()

    @Slot(str)
    def certify(self, purpose: str) -> None:
        """本人刷脸认证 (self) or 亲属协助刷脸认证 (proxy): the resident flow, the operator recorded."""
        op = self._operator()
        if not op or not self._person_id:
            return
        self.flow.certify_for(self._person_id, "proxy" if purpose == "proxy" else "self", op)

    @Slot(str)
    def setNote(self, note: str) -> None:
        self._note = note

    @Slot(str)
    def mark(self, outcome: str) -> None:
        """记录上门: visited / 不在家 / refused, with the note typed (sealed in the store)."""
        op = self._operator()
        if not op or not self._person_id or outcome not in MARK_OUTCOMES:
            return
        try:
            self.service.store.record_visit(self._person_id, op, outcome, self._note)
        except (KioskError, StoreError) as e:  # the store (disk full, read-only …): the note stays on screen
            self._message, self._message_error = e.message, True
            self.changed.emit()
            return
        self._note = ""
        self._load()
        self._message = text("ui_visit_saved", outcome=text(f"visit_outcome_{outcome}"),
                             date=self.service.clock.today())
        self._message_error = False
        self._refresh_person()

    @Slot()
    def fallbackNow(self) -> None:
        """不刷脸认证 for this person (on the staff member's judgement)."""
        if self.fallback is not None and self._person_id and self._operator():
            self.fallback.open_for(self._person_id)

    @Slot()
    def backToList(self) -> None:
        self._person, self._person_id, self._message = {}, "", ""
        if self._operator():
            self._load()
        self.changed.emit()
        self.flow.show("visits")

    @Slot()
    def backToPerson(self) -> None:
        """From the result (or 已提交) screen back to the person's page, the list refreshed."""
        if not self._person_id or not self._operator():
            return self.flow.home()
        self._load()
        self._message = ""
        self._refresh_person()
        self.flow.show("visit")

    # ------------------------------------------------------------------ properties
    def _returnable(self) -> bool:
        return bool(self._person_id) and self.flow.screen in ("result", "submitted", "notice")

    rows = Property("QVariantList", lambda s: s._rows, notify=changed)  # type: ignore[arg-type]
    count = Property(int, lambda s: len(s._rows), notify=changed)
    villages = Property("QVariantList", lambda s: s._villages, notify=changed)  # type: ignore[arg-type]
    village = Property(str, lambda s: s._village, notify=changed)
    operatorName = Property(str, lambda s: s._operator(), notify=changed)
    loggedIn = Property(bool, lambda s: bool(s._operator()), notify=changed)
    person = Property("QVariantMap", lambda s: s._person, notify=changed)  # type: ignore[arg-type]
    message = Property(str, lambda s: s._message, notify=changed)
    note = Property(str, lambda s: s._note, notify=changed)
    messageError = Property(bool, lambda s: s._message_error, notify=changed)
    outcomes = Property("QVariantList", lambda s: [{"key": k, "label": text(f"visit_outcome_{k}")}  # type: ignore[arg-type]
                                                   for k in MARK_OUTCOMES], constant=True)
    returnable = Property(bool, _returnable, notify=changed)
