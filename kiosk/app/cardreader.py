"""The 二代证 reader in the app: a card put on the reader fills the ID field and goes on by itself.

`attach_card_reader(kiosk)` (bootstrap, when kiosk.toml names `idcard_library`) starts a
`kiosk.idcard.CardWatcher` on its own thread; each card read reaches the UI thread through a queued
signal. On the home screen it starts 本人认证 with the number; on the ID screen (the resident's or
the helper's number) it fills the field and submits it, as if typed on the keypad. Elsewhere it is
ignored (a resident in the middle of a check is not interrupted). Only the number is used; the chip
photo is dropped here.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)


class CardInput(QObject):
    number = Signal(str)

    def __init__(self, flow, entry, parent: QObject | None = None):
        super().__init__(parent)
        self.flow, self.entry = flow, entry
        self.number.connect(self._fill, Qt.ConnectionType.QueuedConnection)

    def card_read(self, card) -> None:
        """From the reader's thread: only the number crosses over."""
        self.number.emit(card.id_number)

    def _fill(self, number: str) -> None:
        screen = self.flow.property("screen")
        if screen == "home":
            self.flow.start("self")
        elif screen != "identity":
            log.info("ID card read on the %s screen: ignored", screen)
            return
        self.entry.clearEntry()
        for ch in number:
            self.entry.press(ch)
        self.entry.submit()


def attach_card_reader(kiosk, reader=None):
    """(CardInput, CardWatcher) for the configured reader, started; None when there is none or the
    SDK cannot be loaded (logged: the keypad still works)."""
    from kiosk.idcard import CardWatcher, IdCardError, reader_from_settings

    try:
        reader = reader or reader_from_settings(kiosk.settings)
    except IdCardError as e:
        log.warning("ID-card reader not used: %s", e.message)
        return None
    if reader is None:
        return None
    card_input = CardInput(kiosk.flow, kiosk.entry)
    watcher = CardWatcher(reader, card_input.card_read,
                          on_error=lambda e: log.warning("ID-card reader: %s", e.message))
    watcher.start()
    return card_input, watcher
