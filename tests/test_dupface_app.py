"""The duplicate-face warning in the app's review (kiosk.dupface): the demo's virtual camera face is
王秀英's template, so enrolling it under 刘玉珍 is flagged; the reviewer sees whom it resembles
(masked) and cannot approve without 已核实不是同一人 and a reason; with them the approval, its audit
and the record for the county carry the confirmation. Screens rendered at laptop and portrait
sizes, elder mode on and off (PNGs in $DUPFACE_SCREENSHOTS if set, else a temporary folder)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")

import pytest

from kiosk.app import driver
from kiosk.matching.encoder import BACKEND_NAME
from test_app import CHECK_TIMEOUT_MS, demo, demo_master, encoder, make_app, quick_voice  # noqa: F401 (fixtures)
from test_app_staff import ASSISTANT, REVIEWER, _shot, enrol_to_consent, login, long_press, staff_app  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.data]


def above_the_buttons(h) -> list[str]:
    """Controls of the review's column that reach into the bottom row (back / reject / approve)."""
    from PySide6.QtCore import QRectF

    def rect(it):
        return it.mapRectToScene(QRectF(0, 0, it.width(), it.height()))

    top = rect(driver.find(h.window, "btnApprove")).top()
    return [it.objectName() for it in driver.items(h.window) if it.isVisible()
            and it.objectName().startswith(("reject_", "rejectTyped", "btnDup", "dupReasonTyped", "dupOther_", "dupTitle"))
            and rect(it).bottom() > top + 0.5]


def as_reviewer_open(h, eid: int) -> None:
    long_press(h)
    h.wait_screen("staffLogin")
    login(h, REVIEWER)
    h.wait_screen("staff")
    h.tap("area_review")
    h.wait_screen("review")
    h.tap(f"review_{eid}")
    h.wait_screen("reviewDetail")


@pytest.mark.parametrize("elder", [False, True])
def test_the_reviewer_sees_the_warning_and_approves_only_with_a_confirmation(staff_app, qtbot, tmp_path, elder):
    from pathlib import Path

    from kiosk.store.syncstate import SyncState

    shots = Path(os.environ.get("DUPFACE_SCREENSHOTS") or tmp_path) / f"camera_{'elder_' if elder else ''}1366x768"
    shots.mkdir(parents=True, exist_ok=True)
    h = staff_app(voice=quick_voice(), elder=elder)
    k = h.k
    liu, wang = h.ids["刘玉珍"], h.ids["王秀英"]
    assert k.store.templates_for(wang, BACKEND_NAME)  # the virtual camera's face is 王秀英's
    enrol_to_consent(h, liu)
    h.tap("btnEnrolConsentYes")
    h.wait_screen("enrolDone", CHECK_TIMEOUT_MS)
    assert k.enrol.result["ok"], k.enrol.result
    eid = k.enrol.result["enrolment"]
    e = k.store.get_enrolment(eid)
    assert [(r["resident"], r["within"]) for r in e["resembles"] if r["within"]] == [(wang, True)]
    k.staff.logout()
    h.wait_screen("home")

    as_reviewer_open(h, eid)
    assert k.enrol.frameCount(eid) >= 5  # the chosen frames are in memory: thumbnails on the review
    assert above_the_buttons(h) == []
    warn = driver.find(h.window, "dupWarning")
    assert warn is not None and warn.isVisible()
    assert "王*英" in h.text("dupOther_0") and wang[-4:] in h.text("dupOther_0") and wang not in h.text("dupOther_0")
    assert "很像" in h.text("dupTitle")
    # approve without the confirmation: refused with what to do, still pending
    h.tap("btnApprove")
    assert k.review.messageError and "已核实不是同一人" in h.text("reviewMessage")
    _shot(h, shots, "review_dupface_thumbnails_refused")
    assert above_the_buttons(h) == []
    assert k.store.get_enrolment(eid)["status"] == "pending_review"
    # the checkbox alone is not enough: how it was checked
    h.tap("btnDupConfirm")
    assert k.review.dupConfirmed
    qtbot.wait(50)  # the reasons laid out
    h.tap("btnApprove")
    assert k.review.messageError and k.store.get_enrolment(eid)["status"] == "pending_review"
    h.tap("btnDupReason_checked_id_cards")
    assert k.review.dupReason == "checked_id_cards"
    h.tap("btnApprove")
    h.wait_screen("review")
    assert not k.review.messageError and "审核通过" in h.text("reviewMessage")
    e = k.store.get_enrolment(eid)
    assert e["status"] == "approved" and e["resemble_confirmation"]["reason"] == "已核对两人身份证"
    assert e["resemble_confirmation"]["by"] == REVIEWER[0]
    [audit] = [a for a in k.store.audit_entries() if a["action"] == "enrolment_approved"]
    assert audit["actor"] == REVIEWER[0]
    assert audit["details"]["resemble_confirmation"] == {"kind": "different_person", "reason": "已核对两人身份证"}

    # the record for the county (a hub that speaks v5) carries the finding and the confirmation
    state = SyncState(k.store)
    state.set(county_protocol=5)
    assert state.queue_enrolments("东村-1") == 1
    [item] = [i for i in k.store.pending_outbox() if i.kind == "enrolment"]
    assert item.payload["resembles_other"] == 1
    assert item.payload["resembles"][0]["resident_id"] == wang and item.payload["resembles"][0]["within"]
    assert item.payload["resemble_confirmation"] == {"kind": "different_person", "reason": "已核对两人身份证",
                                                     "by": REVIEWER[0]}


@pytest.mark.parametrize("size", [(1366, 768), (1080, 1920)])
@pytest.mark.parametrize("elder", [False, True])
def test_the_review_screen_with_a_warning_fits_and_renders(staff_app, qtbot, tmp_path, size, elder):
    from pathlib import Path

    from kiosk.app.demo import enrol_virtual_face
    from kiosk.dupface import save_enrolment

    tag = f"{'elder_' if elder else ''}{size[0]}x{size[1]}"
    shots = Path(os.environ.get("DUPFACE_SCREENSHOTS") or tmp_path) / tag
    shots.mkdir(parents=True, exist_ok=True)
    h = staff_app(size=size, elder=elder, voice=quick_voice(0.05))
    k = h.k
    from kiosk.enrolment import pose_spread

    face = enrol_virtual_face(k.service.encoder)
    # the longest review: a narrow pose spread's two lines (adminthread) above the warning
    narrow = pose_spread([{"yaw_dev": y, "pitch_dev": 1.0} for y in (-2.0, 0.0, 1.0, 2.0, 3.0)])
    eid = save_enrolment(k.store, k.settings, h.ids["刘玉珍"], [face] * 5, BACKEND_NAME, enrolled_by=ASSISTANT[0],
                         consent_read_by=ASSISTANT[0], consent_at=k.store.clock.utc_now(),
                         quality={"pose_spread": narrow})
    as_reviewer_open(h, eid)
    _shot(h, shots, "review_dupface")
    assert above_the_buttons(h) == []
    h.tap("btnApprove")
    _shot(h, shots, "review_dupface_refused")
    assert above_the_buttons(h) == []
    h.tap("btnDupConfirm")
    assert k.review.dupConfirmed
    qtbot.wait(50)  # the reasons laid out (a person taps a moment later)
    h.tap("btnDupReason_twins_or_siblings")
    assert k.review.dupConfirmed and k.review.dupReason == "twins_or_siblings"
    _shot(h, shots, "review_dupface_confirmed")
    assert above_the_buttons(h) == []
    for name in ("btnDupConfirm", "btnDupReason_checked_id_cards", "btnApprove", "btnReject", "dupReasonTyped"):
        it = driver.find(h.window, name)
        assert it is not None and it.isVisible(), name
