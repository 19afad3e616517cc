"""Find and tap QML controls by objectName (the autopilot and the tests use the same taps)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtQuick import QQuickItem


def items(window) -> list[QQuickItem]:
    out, todo = [], [window.contentItem()]
    while todo:
        it = todo.pop()
        out.append(it)
        todo.extend(it.childItems())
    return out


def find(window, name: str, visible_only: bool = True) -> QQuickItem | None:
    found = [it for it in items(window) if it.objectName() == name and (it.isVisible() or not visible_only)]
    return found[-1] if found else None


def text_of(window, name: str) -> str:
    it = find(window, name, visible_only=False)
    return "" if it is None else str(it.property("text") or "")


def tap(window, name: str) -> None:
    from PySide6.QtTest import QTest

    it = find(window, name)
    if it is None:
        visible = sorted({i.objectName() for i in items(window) if i.objectName() and i.isVisible()})
        raise LookupError(f"no visible control named {name!r}; visible: {visible}")
    _settle(it)
    _scroll_into_view(it)
    p = it.mapToScene(QPointF(it.width() / 2, it.height() / 2))
    QTest.mouseClick(window, Qt.LeftButton, Qt.NoModifier, p.toPoint())


def _settle(it: QQuickItem) -> None:
    """Lay out what the last tap changed before aiming at `it`: Qt Quick layouts place their children
    only when polished, before the next frame, which a loaded machine may not have drawn yet (a
    message shown by the last tap pushes the rows down; the click would land on the row above)."""
    from PySide6.QtCore import QCoreApplication

    QCoreApplication.processEvents()
    chain = []
    anc: QQuickItem | None = it
    while anc is not None:
        chain.append(anc)
        anc = anc.parentItem()
    for item in reversed(chain):  # outer layouts first: they size the inner ones
        item.ensurePolished()


def _scroll_into_view(it: QQuickItem) -> None:
    """As a person scrolls a long page (ListView, Flickable) until the control shows before tapping it."""
    anc = it.parentItem()
    while anc is not None and not anc.inherits("QQuickFlickable"):
        anc = anc.parentItem()
    if anc is None:
        return
    centre = it.mapToItem(anc, QPointF(it.width() / 2, it.height() / 2))
    if 0 <= centre.y() <= anc.height():
        return
    top = float(anc.property("contentY")) + centre.y() - anc.height() / 2
    most = max(0.0, float(anc.property("contentHeight")) - anc.height())
    anc.setProperty("contentY", min(most, max(0.0, top)))
    _scroll_into_view(anc)  # a scrolling page inside another


def type_id(window, digits: str) -> None:
    for ch in digits.upper():
        tap(window, f"key_{ch}")
