"""The live camera preview: a painted Qt Quick item fed QImages by the check controller."""
from __future__ import annotations

from PySide6.QtCore import Property, QObject, QRectF, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtQml import QmlElement
from PySide6.QtQuick import QQuickPaintedItem

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1


@QmlElement
class CameraView(QQuickPaintedItem):
    """Shows the latest frame, scaled to cover the item (centre crop), mirrored like a mirror."""

    controllerChanged = Signal()
    mirroredChanged = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._image: QImage | None = None
        self._controller: QObject | None = None
        self._mirrored = True
        self.setOpaquePainting(True)

    def _get_controller(self):
        return self._controller

    def _set_controller(self, c):
        if c is self._controller:
            return
        if self._controller is not None:
            try:
                self._controller.frameReady.disconnect(self.setImage)
                self._controller.frameCleared.disconnect(self.clear)
            except (RuntimeError, TypeError):
                pass
        self._controller = c
        if c is not None:
            c.frameReady.connect(self.setImage)
            c.frameCleared.connect(self.clear)
        self.controllerChanged.emit()

    controller = Property(QObject, _get_controller, _set_controller, notify=controllerChanged)

    def _get_mirrored(self):
        return self._mirrored

    def _set_mirrored(self, m):
        if m != self._mirrored:
            self._mirrored = m
            self.mirroredChanged.emit()
            self.update()

    mirrored = Property(bool, _get_mirrored, _set_mirrored, notify=mirroredChanged)

    @Slot(QImage)
    def setImage(self, image: QImage) -> None:
        self._image = image
        self.update()

    @Slot()
    def clear(self) -> None:
        self._image = None
        self.update()

    @property
    def has_image(self) -> bool:
        return self._image is not None and not self._image.isNull()

    def paint(self, painter: QPainter) -> None:
        w, h = self.width(), self.height()
        painter.fillRect(QRectF(0, 0, w, h), QColor("#1b1b1b"))
        img = self._image
        if img is None or img.isNull() or w <= 0 or h <= 0:
            return
        iw, ih = img.width(), img.height()
        scale = max(w / iw, h / ih)
        sw, sh = w / scale, h / scale
        src = QRectF((iw - sw) / 2, (ih - sh) / 2, sw, sh)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
        if self._mirrored:
            painter.translate(w, 0)
            painter.scale(-1, 1)
        painter.drawImage(QRectF(0, 0, w, h), img, src)
