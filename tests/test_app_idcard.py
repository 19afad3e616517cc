"""The 二代证 reader in the app: the simulated vendor SDK (tests/idcard_sim.c, via ctypes) puts the
number into the ID field; home to the camera is 3 touches."""
from __future__ import annotations

import pytest

from test_app import demo, demo_master, encoder, make_app  # noqa: F401  (fixtures)
from test_idcard import sim_lib  # noqa: F401  (fixture: the simulated SDK built with gcc)

pytestmark = [pytest.mark.slow]


def test_a_card_on_the_reader_goes_from_home_to_the_camera_in_three_touches(make_app, sim_lib, monkeypatch, qtbot):
    from kiosk.app.cardreader import attach_card_reader
    from kiosk.idcard import SdkReader

    h = make_app()
    k = h.k
    monkeypatch.delenv("IDCARD_SIM_NAME", raising=False)
    card_input, watcher = attach_card_reader(k, SdkReader(sim_lib, 1001))
    try:
        qtbot.wait(600)
        assert k.flow.screen == "home" and watcher.cards == 0  # no card: nothing happens
        monkeypatch.setenv("IDCARD_SIM_ID", h.ids["王秀英"])
        monkeypatch.setenv("IDCARD_SIM_NAME", "王秀英")  # the card is put on the reader
        h.wait_screen("confirm", timeout=5000)
        assert h.text("maskedName") == "王*英" and watcher.cards == 1
        touches = 0
        for button, screen in (("btnConfirmYes", "category"), ("btnCategoryNext", "consent"), ("btnAgree", "face")):
            h.tap(button)
            touches += 1
            h.wait_screen(screen)
        assert touches == 3
        qtbot.wait(900)
        assert watcher.cards == 1  # the card left on the reader is not read again
        k.flow.home()
    finally:
        watcher.stop()
