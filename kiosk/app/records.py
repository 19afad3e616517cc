"""Records: 查询认证记录 — this cycle's status of one resident, and whether they may certify now.

Shows what the service says (`lookup` for the status, `eligibility` for "may certify now");
it decides nothing itself.
"""
from __future__ import annotations

from PySide6.QtCore import Property, QObject, Signal, Slot
from PySide6.QtQml import QmlNamedElement, QmlSingleton

from kiosk.app import qml
from kiosk.texts import status_label, text

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

STATUS_GOOD = {"certified", "data_comparison", "not_yet_open"}


def record_view(view, eligibility) -> dict:
    """What the records screen shows for a looked-up resident and the service's eligibility answer."""
    s = view.status
    lines = []
    if s.valid_until and s.kind == "data_comparison":  # "certified" says the date in its message
        lines.append(text("record_valid_until", date=s.valid_until))
    if s.due_by and s.kind == "not_yet_open":  # "due" already says the date in its message
        lines.append(text("record_due_by", date=s.due_by))
    if s.suspended_since:
        lines.append(text("record_suspended_since", date=s.suspended_since))
    if s.kind in ("due", "overdue"):
        if eligibility.code == "no_template":
            lines.append(text("record_no_template"))
        elif eligibility.may_certify:
            lines.append(text("record_attempts_left", n=view.attempts_left))
        elif eligibility.code == "attempts_exceeded":
            lines.append(text("record_no_attempts"))
    return {"name": view.masked_name, "id": view.masked_id, "kind": s.kind, "label": status_label(s.kind),
            "good": s.kind in STATUS_GOOD, "message": s.message, "lines": lines,
            "categories": text("engine_list").join(c.label for c in view.categories),
            "eligibility": eligibility.code, "canCertify": eligibility.may_certify}


@QmlNamedElement("Records")
@QmlSingleton
class RecordsController(QObject):
    changed = Signal()
    certifyRequested = Signal()  # 现在就认证: the flow takes the resident to 本人认证

    def __init__(self, service, parent: QObject | None = None):
        super().__init__(parent)
        self.service = service
        self._record: dict = {}

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("Records")

    def show(self, view) -> None:
        self._record = record_view(view, self.service.eligibility(view.id_number, "query", view=view))
        self.changed.emit()

    def forget(self) -> None:
        self._record = {}
        self.changed.emit()

    @Slot()
    def certifyNow(self) -> None:
        if self._record.get("canCertify"):
            self.certifyRequested.emit()

    record = Property("QVariantMap", lambda s: s._record, notify=changed)
