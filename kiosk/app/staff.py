"""Staff mode in the app: Staff (StaffController), the staff session on this terminal.

A long press on the title (ui/Main.qml `btnStaff`) calls `Staff.open()`: without a session it
shows the PIN pad (screen "staffLogin": choose the operator, type the PIN on our pad or a
keyboard); the PIN is checked by kiosk.operators.verify_pin, whose refusals (wrong PIN with the
tries left, locked with the wait, unknown, disabled) are shown as they are. With a session it
shows the staff menu (screen "staff", the old read-only page plus one button per area the role
may open). The session ends on 退出 and by itself after `staff_idle_logout_s` without a touch
(kiosk.toml; the camera running counts as busy).

Areas: "enrol", "review" (kiosk.app.enrol), "visits", "fallback", "due", "stats", "admin",
"selftest" (other controllers): a menu button calls `openArea(name)`, which emits
`areaRequested(name)` when the role may open it; bootstrap connects each area's controller.
Who may enrol or review is kiosk.enrolment's rule (ENROL_ROLES, REVIEW_ROLES); the other
controllers check their own rules again with `current_operator()`.

A screen that needs a staff member for what it is doing (不刷脸认证 offered on the result screen
with nobody logged in) calls `open_for(area, then)`: after the PIN, `then()` continues there (for
the same resident) instead of the menu, when the role may open that area. The pending intent is
kept only in memory and forgotten at home (idle reset, 取消), at logout and by a plain long press.

While a staff member is logged in and on a staff screen, the resident idle reset (60 s) is held
(the staff idle logout replaces it there): reading the consent aloud takes longer than that.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Property, QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtQml import QmlNamedElement, QmlSingleton

from kiosk import operators
from kiosk.app import qml
from kiosk.enrolment import ENROL_ROLES, REVIEW_ROLES
from kiosk.texts import text

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

log = logging.getLogger(__name__)

# Menu order; who sees each button. Enrol/review: kiosk.enrolment's rules. The rest: every role
# but admin (the other areas' controllers check their own rules again).
AREA_ROLES: dict[str, tuple[str, ...]] = {
    "enrol": ENROL_ROLES, "review": REVIEW_ROLES, "visits": operators.ROLES, "fallback": operators.ROLES,
    "due": operators.ROLES, "stats": operators.ROLES, "admin": ("admin",), "selftest": operators.ROLES,
}
# The resident's screens (kiosk.app.controllers): there the resident idle reset stays in force.
RESIDENT_SCREENS = {"home", "identity", "confirm", "helper", "category", "consent", "face", "result", "records",
                    "notice", "help", "submitted"}
MAX_PIN = 12


@QmlNamedElement("Staff")
@QmlSingleton
class StaffController(QObject):  # type: ignore[operator]  # PySide6 stub gap
    changed = Signal()
    areaRequested = Signal(str)
    loggedOut = Signal()

    def __init__(self, store, flow, app, settings, parent: QObject | None = None):
        super().__init__(parent)
        self.store, self.flow, self.app = store, flow, app
        self.idle_s = float(getattr(settings, "staff_idle_logout_s", 300.0))
        self._op: operators.Operator | None = None
        self._operators: list[dict] = []
        self._selected = ""
        self._pin = ""
        self._message = ""
        self._demo_hint = ""
        self._pending_enrolments = 0
        self._holding_idle = False
        self._then: tuple[str, Callable[[], None]] | None = None  # (area, continue there) after the PIN
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.setInterval(max(1, int(self.idle_s * 1000)))
        self.idle.timeout.connect(self._idle_timeout)
        flow.changed.connect(self._on_flow_changed)

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("Staff")

    # ------------------------------------------------------------------ the session
    def current_operator(self) -> operators.Operator | None:
        """The logged-in operator, read again from the store (disabled meanwhile: logged out)."""
        if self._op is None:
            return None
        op = operators.get(self.store, self._op.name)
        if op is None or not op.active:
            self.logout()
            return None
        return op

    def eventFilter(self, obj, event) -> bool:  # installed on the application (bootstrap)
        if self._op is not None and event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin,
                                                       QEvent.Type.KeyPress, QEvent.Type.TouchUpdate):
            self.idle.start()
        return False

    def _idle_timeout(self) -> None:
        if self._op is None:
            return
        if self.flow.check.running:  # an enrolment capture or a home-visit check: busy, not idle
            self.idle.start()
            return
        log.info("staff session of %s ended after %.0f s idle", self._op.name, self.idle_s)
        self._end("idle")

    def _on_flow_changed(self) -> None:
        if self.flow.screen == "home":
            self._then = None  # idle reset, 取消, logout: the pending intent is forgotten
        hold = self._op is not None and self.flow.screen not in RESIDENT_SCREENS
        if hold == self._holding_idle:
            return
        self._holding_idle = hold
        if hold:
            self.app.pause_idle(True)
        elif not self.flow.check.running and self.flow.screen != "face":
            self.app.pause_idle(False)  # (a face check pauses it itself, and resumes it when done)

    # ------------------------------------------------------------------ slots
    @Slot()
    def open(self) -> None:
        """The long press on the title: the PIN pad, or the menu when a session is open."""
        self._then = None
        self._open()

    def open_for(self, area: str, then: Callable[[], None]) -> None:
        """The PIN pad for something a screen was doing (area `area`): after the login `then()`
        continues there instead of the menu. Logged in already: at once."""
        op = self.current_operator()
        if op is not None:
            self._then = None
            if op.role in AREA_ROLES.get(area, ()):
                return then()
            return self.showMenu()
        self._open()
        self._then = (area, then)

    def _open(self) -> None:
        if self.current_operator() is not None:
            self.idle.start()
            return self.showMenu()
        self._load_operators()
        self._selected = self._operators[0]["name"] if len(self._operators) == 1 else ""
        self._pin, self._message = "", ""
        self._demo_hint = ""
        if self.app.demo:  # the throw-away demo database: its accounts' PINs are no secret
            from kiosk.app.demo import DEMO_OPERATORS

            names = {o["name"] for o in self._operators}
            accounts = "   ".join(f"{n} {p}" for n, p, _ in DEMO_OPERATORS if n in names)
            self._demo_hint = text("ui_staff_login_demo", accounts=accounts) if accounts else ""
        self.changed.emit()
        self.flow.show("staffLogin", "screen_staff_login")

    def _load_operators(self) -> None:
        now = self.store.clock.utc_now()
        self._operators = [{"name": o.name, "locked": o.locked_at(now),
                            "role": text("ui_staff_login_role_locked" if o.locked_at(now) else f"operator_role_{o.role}",
                                         role=text(f"operator_role_{o.role}"))}
                           for o in operators.list_operators(self.store) if o.active]

    @Slot(str)
    def chooseOperator(self, name: str) -> None:
        self._selected = name.strip()
        self._pin, self._message = "", ""
        self.changed.emit()

    @Slot(str)
    def pinPress(self, key: str) -> None:
        if key.isdigit() and len(key) == 1 and len(self._pin) < MAX_PIN:
            self._pin += key
            self.changed.emit()

    @Slot()
    def pinErase(self) -> None:
        self._pin = self._pin[:-1]
        self.changed.emit()

    @Slot()
    def login(self) -> None:
        if not self._selected:
            self._message = text("ui_staff_login_choose_first")
            self.changed.emit()
            return
        pin, self._pin = self._pin, ""
        try:
            op = operators.verify_pin(self.store, self._selected, pin)
        except operators.OperatorError as e:  # wrong PIN (tries left), locked (the wait), unknown, disabled
            self._message = e.message
            self._load_operators()  # a lock shows on the name
            self.changed.emit()
            return
        self._op = op
        self._message = ""
        self.store.audit(op.name, "operator_login", {"operator": op.name, "where": "app"})
        self.idle.start()
        self.changed.emit()
        pending, self._then = self._then, None
        if pending is not None and op.role in AREA_ROLES.get(pending[0], ()):
            log.info("%s logged in for %s: continuing there", op.name, pending[0])
            return pending[1]()
        self.showMenu()

    @Slot()
    def logout(self) -> None:
        if self._op is not None:
            self._end("logout")

    def end_for_close(self) -> None:
        """The app is closing: a staff session still open ends here (audited as such)."""
        if self._op is not None:
            self._end("app_closed")
        self.idle.stop()

    def _end(self, how: str) -> None:
        op, self._op = self._op, None
        self._then = None
        self.idle.stop()
        self._selected, self._pin, self._message = "", "", ""
        if op is not None:
            self.store.audit(op.name, "operator_logout", {"operator": op.name, "how": how})
        self.changed.emit()
        self.loggedOut.emit()
        self.flow.home()  # forgets what the staff screens showed; stops a running capture
        self._holding_idle = False
        self.app.pause_idle(False)

    @Slot()
    def showMenu(self) -> None:
        if self.current_operator() is None:
            return self.open()
        self._pending_enrolments = len(self.store.list_enrolments(status="pending_review"))
        self.flow.staff()  # the read-only figures (pending records, last sync) and the "staff" screen
        self.changed.emit()

    @Slot(str)
    def openArea(self, name: str) -> None:
        op = self.current_operator()
        if op is None:
            return self.open()
        if op.role not in AREA_ROLES.get(name, ()):
            log.warning("%s (%s) may not open %s", op.name, op.role, name)
            return
        self.areaRequested.emit(name)

    # ------------------------------------------------------------------ properties
    def _areas(self) -> list[dict]:
        if self._op is None:
            return []
        return [{"key": k, "label": text(f"ui_staff_area_{k}"),
                 "note": text("ui_staff_area_pending", n=self._pending_enrolments)
                 if k == "review" and self._pending_enrolments else ""}
                for k, roles in AREA_ROLES.items() if self._op.role in roles]

    loggedIn = Property(bool, lambda s: s._op is not None, notify=changed)
    operatorName = Property(str, lambda s: s._op.name if s._op else "", notify=changed)
    role = Property(str, lambda s: s._op.role if s._op else "", notify=changed)
    roleLabel = Property(str, lambda s: text(f"operator_role_{s._op.role}") if s._op else "", notify=changed)
    operatorList = Property("QVariantList", lambda s: s._operators, notify=changed)  # type: ignore[arg-type]
    selectedName = Property(str, lambda s: s._selected, notify=changed)
    pinLength = Property(int, lambda s: len(s._pin), notify=changed)
    minPin = Property(int, lambda s: operators.MIN_PIN_DIGITS, constant=True)
    message = Property(str, lambda s: s._message, notify=changed)
    demoHint = Property(str, lambda s: s._demo_hint, notify=changed)
    areas = Property("QVariantList", _areas, notify=changed)  # type: ignore[arg-type]
    idleMinutes = Property(int, lambda s: max(1, round(s.idle_s / 60)), constant=True)
