"""IdEntry: the 18-digit ID number typed on our own keypad, checked as it is typed.

A physical keyboard (staff on a laptop) and a keyboard-wedge ID-card reader (it types the 18
characters fast, usually followed by Enter) go through `key()`: digits and x/X fill the field,
Backspace erases, Enter submits; once 18 characters with a valid check digit have come from the
keyboard, the number is submitted by itself (the reader's own Enter after it is swallowed).

Only typing and its hints live here (rules in kiosk.residents). What a complete number means
(look the resident up, or take it as the helper's number) is the flow's business: `submit()`
hands the typed number to it through the `submitted` signal.
"""
from __future__ import annotations

from PySide6.QtCore import Property, QObject, Qt, Signal, Slot
from PySide6.QtQml import QmlNamedElement, QmlSingleton

from kiosk.app import qml
from kiosk.core.ids import ID_LENGTH, check_partial, normalize
from kiosk.texts import text

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1


def group_id(text: str) -> str:
    """110105 19480315 123X: region, birth date, the rest (easier to check digit by digit)."""
    parts = [text[:6], text[6:14], text[14:]]
    return " ".join(p for p in parts if p)


@QmlNamedElement("IdEntry")
@QmlSingleton
class IdentityEntry(QObject):
    changed = Signal()
    submitted = Signal(str, str)  # target (resident | helper), the typed number

    def __init__(self, today, parent: QObject | None = None):
        super().__init__(parent)
        self.today = today
        self.purpose = ""
        self._clear()

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("IdEntry")

    def _clear(self) -> None:
        self._swallow_enter = False
        self._entry = ""
        self._target = "resident"
        self._hint = ""
        self._hint_error = False

    # ------------------------------------------------------------------ from the flow
    def reset(self, target: str = "resident", hint: str = "", purpose: str | None = None) -> None:
        """Empty the field for a new number (resident's or helper's), with an optional hint."""
        self._entry, self._target, self._hint, self._hint_error = "", target, hint, False
        self._swallow_enter = False
        if purpose is not None:
            self.purpose = purpose
        self.changed.emit()

    def forget(self) -> None:
        self.purpose = ""
        self._clear()
        self.changed.emit()

    def set_hint(self, text: str, error: bool) -> None:
        self._hint, self._hint_error = text, error
        self.changed.emit()

    @property
    def typed(self) -> str:
        return normalize(self._entry)

    # ------------------------------------------------------------------ keypad slots
    @Slot(str)
    def press(self, key: str) -> None:
        if len(normalize(self._entry)) >= ID_LENGTH:
            self.set_hint(text("hint_full"), True)
            return
        self._entry += key
        self._live_check()

    @Slot(int, str, result=bool)
    def key(self, key: int, typed: str) -> bool:
        """A key from a physical keyboard or a keyboard-wedge reader; True if it was used.
        18 valid characters (check digit right) move on by themselves."""
        enter = key in (int(Qt.Key.Key_Return), int(Qt.Key.Key_Enter))
        if enter and self._swallow_enter:  # the reader's Enter after a number already submitted
            self._swallow_enter = False
            return True
        self._swallow_enter = False
        if enter:
            if self.entryComplete or (self._target == "helper" and not self.typed):
                self.submit()
            return True
        if key == int(Qt.Key.Key_Backspace):
            self.erase()
            return True
        if key == int(Qt.Key.Key_Escape):
            self.clearEntry()
            return True
        ch = (typed or "").upper()
        if len(ch) != 1 or ch not in "0123456789X":
            return False
        if len(self.typed) >= ID_LENGTH:  # a second read over a full field: start again
            self._entry = ""
        self.press(ch)
        if len(self.typed) == ID_LENGTH and not self._hint_error:
            self._swallow_enter = True
            self.submit()
        return True

    @Slot()
    def erase(self) -> None:
        self._entry = self._entry[:-1]
        self._live_check()

    @Slot()
    def clearEntry(self) -> None:
        self._entry = ""
        self._live_check()

    @Slot()
    def submit(self) -> None:
        """下一步 / 查询 / 跳过 on the keypad screen."""
        self.submitted.emit(self._target, self.typed)

    def _live_check(self) -> None:
        typed = normalize(self._entry)
        problem = check_partial(typed, self.today())
        if problem:
            self.set_hint(problem, True)
        elif len(typed) == ID_LENGTH:
            self.set_hint(text("hint_ok_next") if self.purpose != "query" or self._target == "helper"
                          else text("hint_ok_query"), False)
        elif typed:
            self.set_hint(text("hint_progress", n=len(typed), left=ID_LENGTH - len(typed)), False)
        else:
            self.set_hint("", False)

    # ------------------------------------------------------------------ properties
    target = Property(str, lambda s: s._target, notify=changed)
    entry = Property(str, lambda s: normalize(s._entry), notify=changed)
    entryGrouped = Property(str, lambda s: group_id(normalize(s._entry)), notify=changed)
    entryLength = Property(int, lambda s: len(normalize(s._entry)), notify=changed)
    entryComplete = Property(bool, lambda s: len(normalize(s._entry)) == ID_LENGTH and not s._hint_error,
                             notify=changed)
    hint = Property(str, lambda s: s._hint, notify=changed)
    hintError = Property(bool, lambda s: s._hint_error, notify=changed)
    helperEntry = Property(bool, lambda s: s._target == "helper", notify=changed)
