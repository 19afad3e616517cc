"""The on-screen keyboard for staff text fields on a touch-only kiosk: Qt Virtual Keyboard (the
maintained library in the PySide6 wheel) with its 拼音 input method first and English second.

The setting `on_screen_keyboard` (kiosk.toml): "auto" turns it on when the app fills the screen
(the kiosk as installed; a laptop in a window has a keyboard), "on" and "off" force it. Qt loads
its input method once, when the QGuiApplication is made, from $QT_IM_MODULE: `request()` sets it
before that (kiosk.app.bootstrap.run), and KioskApp shows the keyboard only when the process really
has it (`input_context_ready()`; a test's QApplication made without it gets no InputPanel).

QML (ui/Main.qml) loads ui/KeyboardPanel.qml, the InputPanel, only when `App.keyboard` is true,
and follows two numbers of the `Keyboard` singleton: `inset` (the screen area ends above the
panel: a scrolling page gets shorter, so all of it can be scrolled above the keyboard) and `pan`
(a page that does not scroll is moved up). KeyboardController computes them here, and scrolls
the page so the field being typed stays above the panel, whenever the panel opens or closes,
the focus moves or the cursor moves.
"""
from __future__ import annotations

import logging
import os

from PySide6.QtCore import Property, QObject, QPointF, QRectF, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtQml import QmlNamedElement, QmlSingleton
from PySide6.QtQuick import QQuickItem

from kiosk.app import qml

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

IM_MODULE = "qtvirtualkeyboard"
IM_ENV = "QT_IM_MODULE"
PANEL_NAME = "keyboardPanel"  # ui/KeyboardPanel.qml's InputPanel
MODES = ("auto", "on", "off")

log = logging.getLogger(__name__)


def wanted(mode: str, fullscreen: bool) -> bool:
    """Whether the keyboard is wanted: `mode` is the setting, `fullscreen` whether the app fills
    the screen (Options.fullscreen without --demo: exactly when KioskApp.show() fills it)."""
    if mode not in MODES:
        raise ValueError(f"on_screen_keyboard: {mode!r} is not one of {MODES}")
    return mode == "on" or (mode == "auto" and fullscreen)


def fills_screen(opts) -> bool:
    """The app fills the screen (kiosk.app.bootstrap.KioskApp.show)."""
    return bool(getattr(opts, "fullscreen", False)) and not getattr(opts, "demo", False)


def installed() -> bool:
    """Qt Virtual Keyboard is there: its input-method plugin and its QML module (a bundle built
    without it, packaging/kiosk.spec KIOSK_BUNDLE_KEYBOARD, has neither)."""
    from pathlib import Path

    from PySide6.QtCore import QCoreApplication, QLibraryInfo

    plugin = any(next(Path(d, "platforminputcontexts").glob("*qtvirtualkeyboardplugin*"), None) is not None
                 for d in QCoreApplication.libraryPaths() if Path(d, "platforminputcontexts").is_dir())
    # Qt's own QML folder, and those a frozen bundle names (PyInstaller's run-time hook sets QML2_IMPORT_PATH)
    roots = [QLibraryInfo.path(QLibraryInfo.LibraryPath.QmlImportsPath)]
    for var in ("QML2_IMPORT_PATH", "QML_IMPORT_PATH"):
        roots += [d for d in os.environ.get(var, "").split(os.pathsep) if d]
    return plugin and any(Path(d, "QtQuick", "VirtualKeyboard", "qmldir").is_file() for d in roots)


def request(settings, opts) -> bool:
    """Before the QGuiApplication exists: ask Qt for the virtual keyboard's input method when the
    keyboard is wanted and installed. Nothing is set otherwise (a laptop's own input method, e.g.
    fcitx, stays)."""
    on = wanted(getattr(settings, "on_screen_keyboard", "auto"), fills_screen(opts))
    if on and not installed():
        log.warning("on_screen_keyboard: Qt Virtual Keyboard is not installed (bundle built without it); no on-screen keyboard")
        return False
    if on:
        os.environ[IM_ENV] = IM_MODULE
    return on


def input_context_ready() -> bool:
    """Qt was asked for the virtual keyboard's input method (read when the QGuiApplication was made)."""
    return os.environ.get(IM_ENV) == IM_MODULE


def enabled(settings, opts) -> bool:
    """Whether this app shows the keyboard: wanted, and the process has the input method."""
    if not wanted(getattr(settings, "on_screen_keyboard", "auto"), fills_screen(opts)):
        return False
    if not input_context_ready():
        log.warning("on_screen_keyboard: %s was not %s when the application started; no on-screen keyboard",
                    IM_ENV, IM_MODULE)
        return False
    return True


def _flickable(item: QQuickItem | None) -> QQuickItem | None:
    while item is not None and not item.inherits("QQuickFlickable"):
        item = item.parentItem()
    return item


def _find(root: QQuickItem, name: str) -> QQuickItem | None:
    todo = [root]
    while todo:
        it = todo.pop()
        if it.objectName() == name:
            return it
        todo.extend(it.childItems())
    return None


@QmlNamedElement("Keyboard")
@QmlSingleton
class KeyboardController(QObject):  # type: ignore[operator]  # (PySide6 stubs: QmlNamedElement is a decorator factory)
    """Where the screen area ends and how far a page moves up while the on-screen keyboard is open."""

    changed = Signal()

    def __init__(self, on: bool = False, parent=None):
        super().__init__(parent)
        self._on = on
        self._inset = 0.0
        self._pan = 0.0
        self.window = None
        self._pending = QTimer(self)  # after the focus, the panel and the layout have settled
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.update)

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("Keyboard")

    def attach(self, window) -> None:
        """Follow this window's focus and the input method (nothing when the keyboard is off)."""
        if not self._on:
            return
        self.window = window
        im = QGuiApplication.inputMethod()
        im.visibleChanged.connect(self._pending.start)
        im.keyboardRectangleChanged.connect(self._pending.start)
        im.cursorRectangleChanged.connect(self._pending.start)
        window.activeFocusItemChanged.connect(self._pending.start)
        window.heightChanged.connect(self._pending.start)
        panel = self.panel()
        if panel is not None:  # its height animates when the layout changes (letters, dial pad): followed at once
            panel.heightChanged.connect(self.update)

    def detach(self) -> None:
        if self.window is None:
            return
        im = QGuiApplication.inputMethod()
        for signal in (im.visibleChanged, im.keyboardRectangleChanged, im.cursorRectangleChanged,
                       self.window.activeFocusItemChanged, self.window.heightChanged):
            try:
                signal.disconnect(self._pending.start)
            except (RuntimeError, TypeError):
                pass
        panel = self.panel()
        if panel is not None:
            try:
                panel.heightChanged.disconnect(self.update)
            except (RuntimeError, TypeError):
                pass
        self.window = None
        self._pending.stop()

    def _get_inset(self) -> float:
        return self._inset

    def _get_pan(self) -> float:
        return self._pan

    inset = Property(float, _get_inset, notify=changed)
    pan = Property(float, _get_pan, notify=changed)

    def panel(self) -> QQuickItem | None:
        return None if self.window is None else _find(self.window.contentItem(), PANEL_NAME)

    def open(self) -> bool:
        """The panel is showing (a text field has the focus and the keyboard was not hidden)."""
        panel = self.panel()
        return panel is not None and bool(panel.property("active")) and panel.isVisible()

    def _set(self, inset: float, pan: float) -> None:
        if (inset, pan) != (self._inset, self._pan):
            self._inset, self._pan = inset, pan
            self.changed.emit()

    def update(self) -> None:
        """Recompute the inset and the pan, and scroll the focused field above the panel."""
        if self.window is None:
            return
        focus = self.window.activeFocusItem()
        panel = self.panel()
        if focus is None or panel is None or not self.open() or not (focus.flags() & QQuickItem.ItemAcceptsInputMethod):
            self._set(0.0, 0.0)
            return
        panel_h = float(panel.height())
        margin = max(8.0, float(focus.height()) / 2)  # the field's frame shows too
        flick = _flickable(focus)
        if flick is not None:  # the page scrolls: it ends above the panel, and scrolls the field into view
            self._set(panel_h, 0.0)
            r = focus.mapRectToItem(flick.property("contentItem"), QRectF(0, 0, focus.width(), focus.height()))
            top, height = float(flick.property("contentY")), float(flick.height())
            if r.bottom() + margin > top + height:
                top = r.bottom() + margin - height
            if r.top() - margin < top:
                top = r.top() - margin
            most = max(0.0, float(flick.property("contentHeight")) - height)
            flick.setProperty("contentY", min(most, max(0.0, top)))
            return
        # A page that does not scroll keeps its size and moves up until the field clears the panel.
        bottom = focus.mapToScene(QPointF(0, focus.height())).y() + self._pan
        limit = float(self.window.height()) - panel_h
        self._set(0.0, max(0.0, bottom + margin - limit))
