"""The certification service: the rules around one certification, in one place.

Front ends (the Qt app, the CLI) call it; it never touches Qt or the camera.
- `lookup` turns what was typed into a resident the screen can show (masked), with this
  cycle's status, the categories they receive and how many tries are left today;
- `eligibility` answers "who may certify now", once, for every screen and command: codes
  and plain data only (the words are the text catalogue's), and what to offer next;
- `begin` asks `eligibility` (nobody starts a check it refuses) and builds the
  `CertificationSession` with their template, the roster for the cross-check and the cohort
  for score normalisation;
- `record` writes the verdict (attempt + outbox + audit, one transaction) and says what it
  means for the resident (valid until …, tries left).

The store's SQLite connection is single-threaded: call the service on the thread that
opened the store (its calls take milliseconds); feed the session on a worker thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from kiosk.config import Settings
from kiosk.core.clock import Clock
from kiosk.core.ids import InvalidIdNumber, mask_id, mask_name, parse_id_number
from kiosk.policy import Category, Status, certification_status, rule_from_config, valid_until_after
from kiosk.pad.options import session_pad_options
from kiosk.session import CertificationSession
from kiosk.texts import cn_date, error_message, text, texts

# Endings that say nothing about the resident's face: they do not use up a try.
NOT_COUNTED_REASONS = frozenset({"cancelled", "camera_lost", "source_failed", "internal_error", "idle_reset"})

# Every ServiceError code (words: kiosk.texts error_<code> + next_<code>; a test walks them all).
ERROR_CODES = ("bad_id_number", "unknown_resident", "deceased", "not_required", "already_certified", "no_category",
               "wrong_category", "bad_helper_id", "attempts_exceeded", "no_template", "clock_wrong",
               "fallback_pending", "maintenance")

CLOCK_MARGIN_S = 86400  # farther than this from the county's clock at the last sync: refuse to certify
CLOCK_TOLERANCE_S = 300  # small steps back (NTP, a reboot) are not "earlier than the last record"


# Eligibility codes: why a resident may not certify now (may_certify False), or "ok" / "suspended"
# (payments stopped: certifying now resumes them with back-pay). Checked in this order.
# fallback_pending: a certification without a face waits for the county (no face try needed).
ELIGIBILITY_CODES = ("bad_id_number", "unknown_resident", "deceased", "data_comparison", "already_certified",
                     "fallback_pending", "maintenance", "clock_wrong", "no_category", "wrong_category", "attempts_exceeded", "no_template", "suspended", "ok")
# What to offer next, by eligibility code.
NEXT_STEPS = {
    "bad_id_number": "check_id", "unknown_resident": "check_id",
    "deceased": "verify_at_township",
    "data_comparison": "records", "already_certified": "records",
    "fallback_pending": "wait_county_review",
    "clock_wrong": "ask_staff",  # the kiosk's clock is clearly wrong: staff set it, then certify
    "maintenance": "come_later",  # the county's maintenance window (kiosk.maintenance): after it ends
    "no_category": "ask_staff", "wrong_category": "choose_category",
    "attempts_exceeded": "come_tomorrow_or_assisted",
    "no_template": "enrol_at_office",
    "suspended": "start_check", "ok": "start_check",
}
# begin()'s ServiceError codes are part of the CLI's JSON: the data-comparison refusal keeps its old name.
_BEGIN_ERROR_CODES = {"data_comparison": "not_required"}


FALLBACK_REVIEW_DAYS = 3  # the county reviews a certification without a face in about this many working days


class ServiceError(Exception):
    """The resident cannot go on from here: `code` and `data`; `message` (from the catalogue)
    says what happened and what to do instead."""

    def __init__(self, code: str, **data):
        self.code, self.data = code, data
        super().__init__(f"{code}: {self.message}")

    @property
    def message(self) -> str:
        return error_message(self.code, **self.data)


class FallbackRefused(ServiceError):
    """`kiosk fallback` cannot be recorded: not_allowed, relative, relative_id, reason (words:
    fallback_error_<code>)."""

    @property
    def message(self) -> str:
        return text(f"fallback_error_{self.code}", **self.data)


@dataclass(frozen=True)
class ResidentView:
    """What the screens may know about a resident: masked identity, status, what they can do."""

    id_number: str  # full number: kept for the flow, never displayed
    masked_id: str
    masked_name: str
    birth_date: date
    categories: tuple[Category, ...]
    status: Status
    attempts_left: int
    has_template: bool
    county_status: str

    def to_json(self) -> dict:
        s = self.status
        return {"id": self.masked_id, "name": self.masked_name,
                "categories": [c.value for c in self.categories], "status": s.kind, "message": s.message,
                "valid_until": s.valid_until.isoformat() if s.valid_until else None,
                "due_by": s.due_by.isoformat() if s.due_by else None,
                "attempts_left": self.attempts_left, "has_template": self.has_template}


@dataclass(frozen=True)
class Eligibility:
    """May this resident start a face check now? One answer for the app, the CLI and `begin`.

    `code` is one of ELIGIBILITY_CODES, `next_step_code` one of NEXT_STEPS' values, `data`
    plain JSON (ISO dates, numbers) for the texts; no Chinese here."""

    may_certify: bool
    code: str
    data: dict = field(default_factory=dict)
    next_step_code: str = ""
    resident: "ResidentView | None" = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        return {"mayCertify": self.may_certify, "code": self.code, "data": dict(self.data),
                "nextStep": self.next_step_code}


@dataclass(frozen=True)
class Helper:
    """Who helps in 代他人认证 (a relative, a village assistant). Their ID is optional."""

    relationship: str
    id_number: str | None = None


@dataclass
class CertificationAttempt:
    resident: ResidentView
    category: Category
    session: CertificationSession
    started_at: datetime
    helper: Helper | None = None
    operator: str | None = None
    recorded: "Outcome | None" = field(default=None, repr=False)


@dataclass(frozen=True)
class Outcome:
    verdict: str  # pass | fail
    reason: str
    valid_until: date | None
    attempts_left: int
    attempt_uuid: str | None  # None when the attempt was not recorded (nothing happened yet)
    back_pay: bool = False  # passed while payments were suspended: they resume with back-pay
    action: str | None = None  # the action a timeout was waiting for

    @property
    def message(self) -> str:
        """What the resident hears and reads: what happened, what to do next (from the catalogue)."""
        if self.verdict != "pass":
            from kiosk.texts import verdict_message

            return verdict_message(self.reason, self.action)
        return texts("result_ok", "outcome_valid_until" if self.valid_until else "",
                     "record_back_pay" if self.back_pay else "", date=self.valid_until)

    @property
    def valid_until_text(self) -> str:
        return cn_date(self.valid_until) if self.valid_until else ""


class CertificationService:
    def __init__(self, store, settings: Settings | None = None, encoder=None, *,
                 clock: Clock | None = None, device_id: str | None = None):
        self.store = store
        self.settings = settings or Settings()
        self._encoder = encoder
        # The service area's clock (kiosk.toml `timezone`): "today" for cycles and the daily limit,
        # and the time stamped on attempts. The store dates attempts with the same clock.
        self.clock = clock or getattr(store, "clock", None) or self.settings.clock()
        self.device_id = device_id or self.settings.device_id

    def today(self) -> date:
        """The service area's date (never the machine zone's)."""
        return self.clock.today()

    @property
    def encoder(self):
        """The embedding backend, loaded on first use (dlib's models take a moment)."""
        if self._encoder is None:
            from kiosk.matching.embedders import make_embedder

            self._encoder = make_embedder(self.settings)  # dlib, or the county's ONNX model
        return self._encoder

    @property
    def backend(self) -> str:
        """Templates and thresholds are kept per embedding backend."""
        return self.encoder.name

    # ------------------------------------------------------------------ who is this
    def lookup(self, id_text: str) -> ResidentView:
        """ServiceError: bad_id_number, unknown_resident."""
        try:
            rid = parse_id_number(id_text, self.today())
        except InvalidIdNumber as e:
            raise ServiceError("bad_id_number", detail=e.message) from e
        r = self.store.get_resident(rid.number)
        if r is None:
            raise ServiceError("unknown_resident")
        today = self.today()
        status = certification_status(
            cycle_rule(self.store, self.settings), r.birth_date, today, last_certified=self.store.last_certified(r.id_number),
            data_comparison_on=r.data_comparison_on, benefit_start=r.benefit_start,
            suspended=r.county_status == "suspended", deceased=r.county_status == "deceased")
        counted = [a for a in self.store.attempts_today(r.id_number, today) if a.reason not in NOT_COUNTED_REASONS]
        return ResidentView(
            id_number=r.id_number, masked_id=mask_id(r.id_number), masked_name=mask_name(r.name),
            birth_date=r.birth_date, categories=tuple(r.categories), status=status,
            attempts_left=max(0, self.settings.attempts_per_day - len(counted)),
            has_template=bool(self.store.templates_for(r.id_number, self.backend)), county_status=r.county_status)

    status = lookup  # 查询认证记录 shows the same view

    # ------------------------------------------------------------------ who may certify now
    def eligibility(self, id_number: str, purpose: str = "self", category: Category | str | None = None,
                    *, view: ResidentView | None = None) -> Eligibility:
        """Who may certify now: deceased, 大数据比对, already certified this cycle, no category (or not
        this one), tries left today, no template; else ok (or suspended: certifying resumes payment).

        `purpose` (self | proxy | query) is what the resident came for; the rules are the same for
        each, it is kept in `data`. An already certified resident is told so and offered the records:
        a check would be harmless but must not use up a try or send them to 建模. `view` (from
        `lookup`) saves a second lookup."""
        if view is None:
            try:
                view = self.lookup(id_number)
            except ServiceError as e:
                return Eligibility(False, e.code, {"purpose": purpose}, NEXT_STEPS[e.code])
        s = view.status
        data: dict = {"purpose": purpose, "status": s.kind, "attemptsLeft": view.attempts_left,
                      "attemptsPerDay": self.settings.attempts_per_day, "hasTemplate": view.has_template,
                      "categories": [c.value for c in view.categories]}
        for key, value in (("validUntil", s.valid_until), ("dueBy", s.due_by), ("suspendedSince", s.suspended_since)):
            if value is not None:
                data[key] = value.isoformat()

        def answer(code: str, **extra) -> Eligibility:
            return Eligibility(code in ("ok", "suspended"), code, {**data, **extra}, NEXT_STEPS[code], view)

        if s.kind == "deceased":
            return answer("deceased")
        if s.kind == "data_comparison":
            return answer("data_comparison")
        if s.kind == "certified":
            return answer("already_certified")
        from kiosk.store import fallbacks

        waiting = fallbacks.pending(self.store, view.id_number)
        if waiting is not None:
            return answer("fallback_pending", fallback=waiting.uuid, method=waiting.method)
        window = self.maintenance_window()
        if window is not None:
            return answer("maintenance", until=window[1].isoformat())
        clock = self.clock_problem()
        if clock is not None:
            return answer("clock_wrong", detail=clock)
        if not view.categories:
            return answer("no_category")
        if category is not None:
            cat = Category.parse(category)
            if cat not in view.categories:
                return answer("wrong_category", category=cat.value)
        if view.attempts_left <= 0:
            return answer("attempts_exceeded")
        if not view.has_template:
            return answer("no_template")
        if s.kind == "overdue":
            return answer("suspended")
        return answer("ok")

    def maintenance_window(self):
        """(start, end) of the county's maintenance window now in force (kiosk.maintenance), or None."""
        from kiosk.maintenance import current, schedule_in_force

        return current(self.clock.now(), schedule_in_force(self.store, self.settings))

    def clock_problem(self) -> str | None:
        """Why this kiosk's clock is clearly wrong (words for "本机时间不对（…）"), or None: earlier than
        its last record or its last sync, or far from the county's clock at the last sync. A
        certification dated by such a clock would be wrong; the county would hold it anyway."""
        from kiosk.store.syncstate import SyncState

        now = self.clock.utc_now()
        last = self.store.db.execute("SELECT max(finished_at) FROM attempts").fetchone()[0]
        if last and (datetime.fromisoformat(last) - now).total_seconds() > CLOCK_TOLERANCE_S:
            return text("label_clock_before_record")
        state = SyncState(self.store)
        synced = state.get("last_success")
        if synced and (datetime.fromisoformat(synced) - now).total_seconds() > CLOCK_TOLERANCE_S:
            return text("label_clock_before_sync")
        offset = float(state.get("clock_offset", 0.0) or 0.0)
        if abs(offset) > CLOCK_MARGIN_S:
            return text("label_clock_off_hub", n=round(abs(offset) / 3600))
        return None

    def refusal(self, e: Eligibility) -> ServiceError:
        """The ServiceError `begin` raises for a refusal (its words come from the catalogue)."""
        data: dict[str, object] = {}
        if e.code == "wrong_category":
            data["label"] = Category.parse(e.data["category"]).label
        elif e.code == "attempts_exceeded":
            data["n"] = self.settings.attempts_per_day
        elif e.code == "clock_wrong":
            data["detail"] = e.data["detail"]
        return ServiceError(_BEGIN_ERROR_CODES.get(e.code, e.code), **data)

    # ------------------------------------------------------------------ start
    def begin(self, id_number: str, category: Category | str | None = None, *, helper: Helper | None = None,
              operator: str | None = None, actions: list[str] | None = None,
              realtime: bool = True) -> CertificationAttempt:
        """ServiceError: bad_id_number, unknown_resident, deceased, not_required (大数据比对),
        already_certified, clock_wrong, no_category, wrong_category, attempts_exceeded, no_template,
        bad_helper_id.

        realtime=False: the frames come from a recorded file fed as fast as it decodes (PAD scores
        every sampled frame inline instead of skipping when behind)."""
        view = self.lookup(id_number)  # bad_id_number / unknown_resident, with the parser's own detail
        e = self.eligibility(view.id_number, "proxy" if helper else "self", category, view=view)
        if not e.may_certify:
            raise self.refusal(e)
        cat = view.categories[0] if category is None else Category.parse(category)
        if helper is not None and helper.id_number:
            try:
                parse_id_number(helper.id_number, self.today())
            except InvalidIdNumber as err:
                raise ServiceError("bad_helper_id", detail=err.message) from err
        template = self.store.templates_for(view.id_number, self.backend)
        if not template:  # removed since the lookup
            raise ServiceError("no_template")
        if self.settings.template_ageing:  # plus what strong passes added (kiosk.matching.ageing)
            from kiosk.store import ageing

            template = template + ageing.vectors(self.store, view.id_number, self.backend)
        roster = {rid: vecs for rid, vecs in self.store.all_templates(self.backend).items()
                  if rid != view.id_number and vecs}
        session = CertificationSession(
            template, self.encoder, actions=actions, n_actions=self.settings.actions_per_challenge,
            step_timeout_s=self.settings.step_timeout_s, matcher=self._matcher(), roster=roster or None,
            **session_pad_options(self.settings, realtime))
        return CertificationAttempt(view, cat, session, self.clock.utc_now(), helper, operator)

    def record_fallback(self, id_number: str, method: str, reason: str, operator: str, *,
                        relative=None, category: Category | str | None = None) -> dict:
        """Certification without a face (工作人员核实认证 / 亲属承诺), pending county review: never a
        face pass, the resident's status does not change until the county approves.

        Allowed after today's tries are used up, or for a named reason (fallbacks.REASONS) on the
        operator's judgement; any other `reason` text is kept as detail and needs the tries used
        up. ServiceError: the lookup's and eligibility's refusals (already certified, fallback
        pending, deceased …); FallbackRefused: not_allowed, reason, relative, relative_id."""
        from kiosk.store import fallbacks

        view = self.lookup(id_number)
        e = self.eligibility(view.id_number, "self", category, view=view)
        if e.code not in ("ok", "suspended", "attempts_exceeded", "no_template"):
            raise self.refusal(e)
        reason = (reason or "").strip()
        if not reason:
            raise FallbackRefused("reason")
        detail = None
        if reason not in fallbacks.REASONS:
            reason, detail = "attempts_exceeded", reason
        if (reason == "attempts_exceeded" and view.attempts_left > 0
                and self.failed_tries_today(view.id_number) < self.settings.fallback_after_failures):
            raise FallbackRefused("not_allowed", n=view.attempts_left)
        if method == "relative_pledge":
            if relative is None or not all((relative.name, relative.relation, relative.id_number, relative.phone)):
                raise FallbackRefused("relative")
            try:
                parse_id_number(relative.id_number, self.today())
            except InvalidIdNumber as err:
                raise FallbackRefused("relative_id", detail=err.message) from err
        else:
            relative = None
        cat = view.categories[0] if category is None else Category.parse(category)
        f = fallbacks.record(self.store, resident_id=view.id_number, category=cat, method=method, reason=reason,
                             operator=operator, detail=detail, relative=relative, device_id=self.device_id,
                             at=self.clock.utc_now())
        days = self.review_days()
        return {**f.to_json(), "expected_days": days, "message": text("fallback_submitted", n=days)}

    def review_days(self) -> int:
        """About how many working days the county takes to review a certification without a face."""
        return int(getattr(self.settings, "fallback_review_days", FALLBACK_REVIEW_DAYS))

    def failed_tries_today(self, id_number: str) -> int:
        """Face tries of the resident today that failed and count (a cancel or a lost camera does not)."""
        return sum(1 for a in self.store.attempts_today(id_number, self.today())
                   if a.verdict != "pass" and a.reason not in NOT_COUNTED_REASONS)

    def fallback_offered(self, id_number: str) -> bool:
        """Offer certification without a face now (the result screen's 不刷脸认证)? After
        `fallback_after_failures` failed tries today, or once today's tries are used up, when
        `record_fallback` would take "tries used up" as the reason."""
        try:
            view = self.lookup(id_number)
        except ServiceError:
            return False
        e = self.eligibility(view.id_number, "self", view=view)
        if e.code not in ("ok", "suspended", "attempts_exceeded", "no_template"):
            return False
        return (view.attempts_left <= 0
                or self.failed_tries_today(view.id_number) >= self.settings.fallback_after_failures)

    def _age_template(self, attempt: CertificationAttempt, uuid: str | None) -> None:
        """After a strong pass, add the session's probe to the resident's templates (bounded, audited;
        kiosk.matching.ageing). Only a face pass made it here: never a fallback."""
        from kiosk.matching.ageing import is_strong

        s = self.settings
        match = attempt.session.verdict.match if attempt.session.verdict else None
        probe = getattr(attempt.session, "probe_vector", None)
        if not s.template_ageing or uuid is None or probe is None:
            return
        if not is_strong(match, attempt.session.matcher, s.template_ageing_margin):
            return
        from kiosk.store import ageing

        assert match is not None
        ageing.add(self.store, attempt.resident.id_number, probe, self.backend, attempt_uuid=uuid,
                   score=match.score if match.score is not None else match.distance, bound=s.template_ageing_bound,
                   now=self.clock.utc_now())

    def _matcher(self):
        from kiosk.matching.scoring import Matcher

        return Matcher.from_settings(self.settings, self.backend)  # this backend's calibrated operating point

    # ------------------------------------------------------------------ finish
    def record(self, attempt: CertificationAttempt) -> Outcome:
        """Write the verdict once (attempt + outbox + audit) and tell what it means for the resident."""
        if attempt.recorded is not None:
            return attempt.recorded
        session = attempt.session
        if session.state != "done":
            session.abort("cancelled")
        v = session.verdict
        assert v is not None, "a done session has its verdict"
        view = attempt.resident
        if v.reason in NOT_COUNTED_REASONS and not any(s["passed"] for s in v.steps):
            # Cancelled before anything happened: nothing to report to the county.
            attempt.recorded = Outcome(v.verdict, v.reason, None, view.attempts_left, None, action=v.action)
            return attempt.recorded
        helper = attempt.helper
        uuid = self.store.record_attempt(
            resident_id=view.id_number, category=attempt.category, mode="proxy" if helper else "self",
            verdict=v.verdict, started_at=attempt.started_at, finished_at=self.clock.utc_now(),
            reason=v.reason, message=v.message, scores=v.match.to_json() if v.match else {},
            liveness=_plain_json(v.liveness), helper_relationship=helper.relationship if helper else None,
            helper_id_masked=mask_id(helper.id_number) if helper and helper.id_number else None,
            operator=attempt.operator, device_id=self.device_id)
        left = view.attempts_left - (0 if v.reason in NOT_COUNTED_REASONS else 1)
        valid_until = None
        if v.verdict == "pass":
            valid_until = valid_until_after(cycle_rule(self.store, self.settings), view.birth_date, self.today())
        back_pay = v.verdict == "pass" and view.status.kind == "overdue"
        if v.verdict == "pass":
            self._age_template(attempt, uuid)
        attempt.recorded = Outcome(v.verdict, v.reason, valid_until, max(0, left), uuid, back_pay, v.action)
        return attempt.recorded


def cycle_rule(store, settings: Settings):
    """The certification cycle rule in force: the county's (pulled with the roster) if it sent
    one, else the local kiosk.toml rule."""
    config = store.get_setting("cycle_rule")
    if config:
        try:
            return rule_from_config(config)
        except (KeyError, TypeError, ValueError):
            pass  # a rule this program does not understand: keep the local one
    return settings.cycle()


def _plain_json(value):
    """numpy scalars and tuples → plain JSON types (the store refuses anything else)."""
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
