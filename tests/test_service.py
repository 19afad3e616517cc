"""The certification service on a real store and real faces: who may certify, tries per day, recording."""
from datetime import date, datetime, timedelta, timezone

import pytest

from kiosk.config import Settings
from kiosk.core.clock import Clock
from kiosk.frames import VideoFileSource
from kiosk.matching.encoder import BACKEND_NAME
from kiosk.policy import Category
from kiosk.core.ids import check_digit
from kiosk.service import CertificationService, Helper, ServiceError
from kiosk.session import run_session
from kiosk.store import Store

TODAY = date(2026, 11, 23)
CLOCK = Clock.fixed(datetime(2026, 11, 23, 10, 0), "Asia/Shanghai")  # the service area's clock, standing still
CLIP = "liveportrait_d3.mp4"


def make_id(region: str, birth: str, seq: str) -> str:
    first = region + birth + seq
    return first + check_digit(first)


WANG = make_id("110105", "19541122", "123")  # birthday month November: the cycle is open
ZHAO = make_id("110105", "19500305", "456")  # overdue (nothing certified)
QIAN = make_id("110105", "19480610", "789")  # certified by data comparison
SUN = make_id("110105", "19520101", "234")  # no template
LATE = make_id("110105", "19400101", "345")  # deceased


@pytest.fixture
def store(tmp_path, videos_dir, clip_frame_png, embeddings, images_dir):
    s = Store.open(tmp_path / "kiosk.db", tmp_path / "template.key", clock=CLOCK)
    s.upsert_resident(WANG, "王建国", village="东村", categories=[Category.PENSION], benefit_start=date(2014, 12, 1),
                      data_comparison_on=date(2025, 12, 1))  # last cycle done: this one is due
    s.upsert_resident(ZHAO, "赵秀英", village="东村", categories=[Category.PENSION, Category.WORK_INJURY],
                      benefit_start=date(2010, 4, 1))
    s.upsert_resident(QIAN, "钱桂兰", village="东村", categories=[Category.PENSION],
                      data_comparison_on=date(2026, 7, 1), benefit_start=date(2008, 7, 1))
    s.upsert_resident(SUN, "孙福", village="西村", categories=[Category.PENSION], benefit_start=date(2012, 2, 1))
    s.upsert_resident(LATE, "李老汉", village="西村", categories=[Category.PENSION], county_status="deceased")
    s.add_template(WANG, embeddings.get(clip_frame_png(videos_dir / CLIP, 5)), BACKEND_NAME, source="county")
    # Other enrolled residents: real photos of other people (the roster the session is checked against).
    others = sorted(p for p in images_dir.iterdir() if p.is_dir())[:3]
    for n, person in enumerate(others):
        rid = make_id("110106", f"195{n}0101", "11" + str(n))
        s.upsert_resident(rid, f"村民{n}", village="西村", categories=[Category.PENSION])
        photo = sorted(person.iterdir())[0]
        vec = embeddings.try_get(photo)
        if vec is not None:
            s.add_template(rid, vec, BACKEND_NAME, source="county")
    yield s
    s.close()


@pytest.fixture
def service(store, photo_encoder):
    return CertificationService(store, Settings(attempts_per_day=3), photo_encoder.encoder, clock=CLOCK,
                                device_id="test-kiosk")


def run(attempt, clips, videos_dir):
    observer = clips.get(videos_dir / CLIP).replay()
    run_session(attempt.session, VideoFileSource(videos_dir / CLIP), observer)


def test_lookup_shows_masked_identity_and_status(service):
    view = service.lookup(WANG.lower() if WANG.endswith("X") else WANG)
    assert view.masked_name == "王*国" and view.masked_id == WANG[:6] + "********" + WANG[-4:]
    assert view.status.kind == "due" and view.attempts_left == 3 and view.has_template
    assert "王建国" not in str(view.to_json()) and WANG not in str(view.to_json())


@pytest.mark.parametrize("text, code", [("11010519541122123", "bad_id_number"),
                                        (WANG[:-1] + ("0" if WANG[-1] != "0" else "1"), "bad_id_number"),
                                        (make_id("110105", "19600101", "999"), "unknown_resident")])
def test_lookup_refuses_bad_or_unknown_numbers_with_a_next_step(service, text, code):
    with pytest.raises(ServiceError) as e:
        service.lookup(text)
    assert e.value.code == code and "。" in e.value.message


@pytest.mark.parametrize("rid, code", [(QIAN, "not_required"), (SUN, "no_template"), (LATE, "deceased")])
def test_begin_refuses_who_cannot_certify_now(service, rid, code):
    with pytest.raises(ServiceError) as e:
        service.begin(rid, Category.PENSION)
    assert e.value.code == code
    if code == "no_template":
        assert "建模" in e.value.message


def test_begin_refuses_a_category_the_person_does_not_receive(service):
    with pytest.raises(ServiceError) as e:
        service.begin(WANG, Category.WORK_INJURY)
    assert e.value.code == "wrong_category" and "工伤资格认证" in e.value.message


def test_three_counted_tries_a_day_then_staff(service, store):
    at = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # 09:00 in China, the same local day
    for n in range(3):
        store.record_attempt(resident_id=WANG, category=Category.PENSION, mode="self", verdict="fail",
                             started_at=at + timedelta(minutes=n), finished_at=at + timedelta(minutes=n, seconds=30),
                             reason="no_match", message="…")
    # A camera failure does not use up a try.
    store.record_attempt(resident_id=WANG, category=Category.PENSION, mode="self", verdict="fail",
                         started_at=at + timedelta(minutes=5), finished_at=at + timedelta(minutes=6),
                         reason="camera_lost", message="…")
    assert service.lookup(WANG).attempts_left == 0
    with pytest.raises(ServiceError) as e:
        service.begin(WANG, Category.PENSION)
    assert e.value.code == "attempts_exceeded" and "线下辅助认证" in e.value.message
    assert CertificationService(store, Settings(attempts_per_day=5), clock=CLOCK).lookup(WANG).attempts_left == 2


def test_a_real_certification_is_recorded_once_and_changes_the_status(service, store, clips, videos_dir):
    attempt = service.begin(WANG, None, actions=["blink", "turn_left"], operator="协理员01")
    assert attempt.category == Category.PENSION
    assert attempt.session.roster and WANG not in attempt.session.roster
    run(attempt, clips, videos_dir)
    outcome = service.record(attempt)
    assert (outcome.verdict, outcome.reason) == ("pass", "ok"), attempt.session.verdict
    assert outcome.valid_until == date(2027, 10, 31)  # the month before the next birthday
    assert "2027年10月31日" in outcome.message and outcome.attempts_left == 2
    assert service.record(attempt) is outcome  # recording twice writes nothing more
    rows = store.attempts_for(WANG)
    assert len(rows) == 1 and rows[0].mode == "self" and rows[0].operator == "协理员01"
    assert rows[0].device_id == "test-kiosk" and rows[0].scores["match"] is True
    assert len(store.pending_outbox()) == 1
    assert service.lookup(WANG).status.kind == "certified"


def test_proxy_certification_keeps_the_helper_masked(service, store, clips, videos_dir):
    helper_id = make_id("110105", "19800202", "321")
    attempt = service.begin(WANG, Category.PENSION, helper=Helper("子女", helper_id), actions=["blink", "turn_left"])
    run(attempt, clips, videos_dir)
    service.record(attempt)
    row = store.attempts_for(WANG)[0]
    assert row.mode == "proxy" and row.helper_relationship == "子女"
    assert row.helper_id_masked == helper_id[:6] + "********" + helper_id[-4:]


def test_a_wrong_helper_id_is_refused_before_the_camera(service):
    with pytest.raises(ServiceError) as e:
        service.begin(WANG, Category.PENSION, helper=Helper("邻居", "110105198002023210"))
    assert e.value.code == "bad_helper_id"


def test_cancelling_before_any_action_records_nothing(service, store):
    attempt = service.begin(WANG, Category.PENSION)
    outcome = service.record(attempt)
    assert outcome.reason == "cancelled" and outcome.attempt_uuid is None
    assert store.attempts_for(WANG) == [] and service.lookup(WANG).attempts_left == 3


# ------------------------------------------------------------------ who may certify now: one answer
def _certified_today(store, rid):
    at = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # 09:00 in China on TODAY
    store.record_attempt(resident_id=rid, category=Category.PENSION, mode="self", verdict="pass",
                         started_at=at, finished_at=at + timedelta(seconds=30), reason="ok", message="…")


@pytest.fixture
def clocked(store, photo_encoder):
    """The service on a fixed clock (2026-11-23 in the service area)."""
    from kiosk.core.clock import Clock

    return CertificationService(store, Settings(attempts_per_day=3), photo_encoder.encoder,
                                clock=Clock.fixed("2026-11-23"), device_id="test-kiosk")


def _no_chinese(value) -> bool:
    return not any("\u4e00" <= ch <= "\u9fff" for ch in str(value))


@pytest.mark.parametrize("rid, code, may, next_step", [
    (WANG, "ok", True, "start_check"),
    (QIAN, "data_comparison", False, "records"),
    (SUN, "no_template", False, "enrol_at_office"),
    (LATE, "deceased", False, "verify_at_township"),
    (make_id("110105", "19600101", "999"), "unknown_resident", False, "check_id"),
])
def test_eligibility_is_one_answer_in_codes(clocked, rid, code, may, next_step):
    e = clocked.eligibility(rid, "self")
    assert (e.code, e.may_certify, e.next_step_code) == (code, may, next_step)
    assert _no_chinese(e.to_json()), e.to_json()


def test_already_certified_is_told_so_not_sent_to_enrolment_and_spends_no_try(clocked, store):
    for rid in (WANG, SUN):  # with a template, and without one
        _certified_today(store, rid)
        left = clocked.lookup(rid).attempts_left
        e = clocked.eligibility(rid, "self")
        assert (e.may_certify, e.code, e.next_step_code) == (False, "already_certified", "records")
        assert e.data["validUntil"] == {WANG: "2027-10-31", SUN: "2026-12-31"}[rid]  # the month before the birthday
        with pytest.raises(ServiceError) as err:
            clocked.begin(rid, Category.PENSION)
        assert err.value.code == "already_certified" and "建模" not in err.value.message
        assert clocked.lookup(rid).attempts_left == left and len(store.attempts_for(rid)) == 1
    assert clocked.eligibility(WANG, "query").code == "already_certified"  # the records screen's answer too


def test_suspended_may_certify_and_hears_it_resumes_payment(clocked, store, videos_dir, clip_frame_png, embeddings):
    store.add_template(ZHAO, embeddings.get(clip_frame_png(videos_dir / CLIP, 5)), BACKEND_NAME, source="county")
    e = clocked.eligibility(ZHAO, "proxy")
    assert (e.may_certify, e.code, e.next_step_code) == (True, "suspended", "start_check")
    assert e.data["purpose"] == "proxy" and e.data["suspendedSince"]


def test_eligibility_category_and_tries(clocked, store):
    e = clocked.eligibility(WANG, "self", Category.WORK_INJURY)
    assert (e.may_certify, e.code, e.data["category"]) == (False, "wrong_category", Category.WORK_INJURY.value)
    store.upsert_resident(make_id("110105", "19560101", "555"), "周无类", village="东村", categories=[])
    assert clocked.eligibility(make_id("110105", "19560101", "555")).code == "no_category"
    at = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    for n in range(3):
        store.record_attempt(resident_id=WANG, category=Category.PENSION, mode="self", verdict="fail",
                             started_at=at + timedelta(minutes=n), finished_at=at + timedelta(minutes=n, seconds=9),
                             reason="no_match", message="…")
    e = clocked.eligibility(WANG)
    assert (e.may_certify, e.code, e.next_step_code, e.data["attemptsPerDay"]) == (
        False, "attempts_exceeded", "come_tomorrow_or_assisted", 3)
