"""`kiosk certify-resident | enroll | residents | status | demo`: the local roster and real certifications."""
from __future__ import annotations

from kiosk.cli.common import (CliError, _drive, _echo, _emit, _open_store, _photo_encoder, clock, staff_source,
                              verify_operator)
from kiosk.texts import text


def cmd_demo(args) -> int:
    """The whole certification through the real engine, on the virtual camera (no camera needed).

    The demo resident's template is taken from the virtual face at rest (as the county would
    enrol it); the virtual face then performs each action the session asks for, after a
    pause like a person listening to the prompt.
    """
    from kiosk.demo.follower import PromptFollower
    from kiosk.demo.virtual_camera import VirtualCamera
    from kiosk.matching.encoder import DlibEncoder
    from kiosk.observe import FaceObserver
    from kiosk.session import CertificationSession

    print(text("cli_demo_banner"), flush=True)
    encoder = DlibEncoder()
    cam = VirtualCamera(realtime=not args.fast, seed=args.seed)
    with FaceObserver(static=True) as still:
        first = next(iter(cam))
        enrolment = still.observe(first)
        if enrolment.face is None:
            raise CliError("no_face", text("cli_demo_no_face"))
        template = [encoder.encode(first.rgb, enrolment.face)]
    from kiosk.config import Settings
    from kiosk.pad.options import session_pad_options

    session = CertificationSession(template, encoder, n_actions=2, **session_pad_options(Settings.load()))
    print(text("cli_demo_actions", names=text("engine_list").join(session.actions)), flush=True)
    follower = PromptFollower(cam)

    def on_events(t, events):
        _echo(t, events)
        if t is not None:
            if session.flash_sequence is not None and any(e.kind == "state" and e.code == "challenge" for e in events):
                session.flash_started(cam.show_flash(session.flash_sequence, t))  # the face reflects the colours
            follower(t, events)

    with FaceObserver() as observer:
        v = _drive(session, cam, observer, on_events=on_events, max_s=90)
    print(text("cli_demo_result", verdict=text("cli_result_pass" if v.verdict == "pass" else "cli_result_fail"),
               message=v.message), flush=True)
    return 0


def cmd_certify_resident(args) -> int:
    """A real certification of an enrolled resident, recorded in the store like the app does
    (attempt + outbox + audit): for 上门认证 on a laptop, county IT checks, and drills."""
    from kiosk.config import Settings
    from kiosk.liveness import BadActions, validate_actions
    from kiosk.observe import FaceObserver
    from kiosk.service import CertificationService, Helper, ServiceError

    sources = [x for x in (args.video, args.camera, args.virtual or None) if x is not None]
    if len(sources) != 1:
        raise CliError("usage", text("cli_one_source"))
    actions = [a.strip() for a in args.actions.split(",") if a.strip()] if args.actions else None
    try:
        if actions:
            validate_actions(actions)
    except BadActions as e:
        raise CliError(e.code, e.message) from e
    settings = Settings.load()
    with _open_store(args) as store:
        if args.operator:  # the operator's PIN (one line of stdin) before anything else
            args.operator = verify_operator(store, args.operator).name
        service = CertificationService(store, settings)
        try:
            attempt = service.begin(args.resident, args.category,
                                    helper=Helper(args.helper, args.helper_id) if args.helper else None,
                                    operator=args.operator, actions=actions, realtime=args.video is None)
        except ServiceError as e:
            raise CliError(e.code, e.message) from e
        source, on_events = staff_source(args, attempt.session, None if args.json else _echo)
        with FaceObserver() as observer:
            _drive(attempt.session, source, observer, on_events=on_events)
        outcome = service.record(attempt)
    out = {"verdict": outcome.verdict, "reason": outcome.reason, "message": outcome.message,
           "steps": attempt.session.verdict.steps if attempt.session.verdict else [], "attempt": outcome.attempt_uuid,
           "valid_until": outcome.valid_until.isoformat() if outcome.valid_until else None,
           "attempts_left": outcome.attempts_left}
    verdict = attempt.session.verdict
    if verdict is not None and "pad" in verdict.liveness:
        out["pad"] = verdict.liveness["pad"]
    verdict_words = text("cli_result_pass" if outcome.verdict == "pass" else "cli_result_fail")
    _emit(out, args.json, text("cli_label_value", label=verdict_words, value=outcome.message)
          + text("cli_attempts_left", n=outcome.attempts_left))
    return 0


def cmd_enroll(args) -> int:
    from kiosk.faces import PhotoError
    from kiosk.policy import Category
    from kiosk.core.ids import InvalidIdNumber, mask_id, mask_name, parse_id_number

    try:
        rid = parse_id_number(args.id_number, clock(args).today())
    except InvalidIdNumber as e:
        raise CliError("bad_id_number", e.message) from e
    enc = _photo_encoder()
    try:
        vecs = [v for p in args.photos for v in enc.encode_template(p)]
    except PhotoError as e:
        raise CliError(e.code, e.message) from e
    cats = [Category.parse(c) for c in (args.category or ["pension"])]
    with _open_store(args) as store:
        actor = verify_operator(store, args.operator).name if args.operator else "cli"
        with store.transaction():
            store.upsert_resident(rid.number, args.name, village=args.village, categories=cats)
            for v in vecs:
                store.add_template(rid.number, v, enc.encoder.name, source="local")
            store.audit(actor, "enroll", {"resident": mask_id(rid.number), "photo_count": len(vecs)})
    _emit({"resident": mask_id(rid.number), "name": mask_name(args.name), "templates": len(vecs)}, args.json,
          text("cli_enrolled", name=mask_name(args.name), id=mask_id(rid.number), n=len(vecs)))
    return 0


def cmd_residents(args) -> int:
    from kiosk.core.ids import mask_id, mask_name

    with _open_store(args) as store:
        rows = store.list_residents(village=args.village)
        for r in rows:
            obj = {"id": mask_id(r.id_number), "name": mask_name(r.name), "village": r.village,
                   "categories": [c.label for c in r.categories], "county_status": r.county_status}
            _emit(obj, args.json, f"{obj['id']}  {obj['name']}  {r.village or ''}  {text('engine_list').join(obj['categories'])}")
    return 0


def cmd_status(args) -> int:
    from kiosk.config import Settings
    from kiosk.policy import certification_status
    from kiosk.core.ids import InvalidIdNumber, mask_id, mask_name, parse_id_number

    today = clock(args).today()  # the service area's day; --today fixes it
    try:
        rid = parse_id_number(args.id_number, today)
    except InvalidIdNumber as e:
        raise CliError("bad_id_number", e.message) from e
    with _open_store(args) as store:
        r = store.get_resident(rid.number)
        if r is None:
            raise CliError("unknown_resident", text("visit_unknown_resident", id=mask_id(rid.number)))
        from kiosk.sync import cycle_rule

        st = certification_status(cycle_rule(store, Settings.load()), rid.birth_date, today,
                                  last_certified=store.last_certified(rid.number),
                                  data_comparison_on=r.data_comparison_on, benefit_start=r.benefit_start,
                                  suspended=r.county_status == "suspended", deceased=r.county_status == "deceased")
        from kiosk.store import fallbacks

        latest = next(iter(fallbacks.for_resident(store, rid.number)), None)
        latest_day = latest.local_date(store) if latest else None
        last_day = store.last_certified(rid.number)
    obj: dict = {"id": mask_id(rid.number), "name": mask_name(r.name), "status": st.kind, "message": st.message,
           "valid_until": st.valid_until.isoformat() if st.valid_until else None,
           "due_by": st.due_by.isoformat() if st.due_by else None}
    human = text("cli_person_line", name=obj["name"], id=obj["id"], message=st.message)
    if latest is not None and (latest.status == "pending_county_review"
                               or latest.status == "rejected" and st.kind != "certified"
                               or latest.status == "approved" and latest_day == last_day):
        # Certification without a face: waiting for the county, or its decision.
        review_days = Settings.load().fallback_review_days

        fb: dict = {"uuid": latest.uuid, "method": latest.method, "status": latest.status,
                    "decision_reason": latest.decision_reason}
        if latest.status == "pending_county_review":
            note = text("fallback_submitted", n=review_days)
            fb["expected_days"] = review_days
        elif latest.status == "rejected":
            note = text("fallback_rejected", detail=latest.decision_reason or "") + text("fallback_next_rejected")
        else:
            note = text("fallback_approved", date=latest_day)
        fb["message"] = note
        obj["fallback"] = fb
        human += "\n" + text("cli_label_value", label=text("fallback_method_" + latest.method), value=note)
    _emit(obj, args.json, human)
    return 0


def cmd_fallback(args) -> int:
    """Certification without a face (工作人员核实认证 / 亲属承诺): recorded pending county review,
    never a face pass; the operator's PIN (one line of stdin) first."""
    from kiosk.config import Settings
    from kiosk.service import CertificationService, ServiceError
    from kiosk.store.fallbacks import Relative

    relative = None
    if args.method == "relative_pledge":
        relative = Relative(args.relative_name or "", args.relation or "", args.relative_id or "",
                            args.relative_phone or "")
    with _open_store(args) as store:
        operator = verify_operator(store, args.operator).name
        service = CertificationService(store, Settings.load(), clock=clock(args))
        try:
            out = service.record_fallback(args.id_number, args.method, args.reason, operator, relative=relative,
                                          category=args.category)
        except ServiceError as e:
            raise CliError(e.code, e.message) from e
    _emit(out, args.json, text("cli_person_line", name=text("fallback_method_" + out["method"]), id=out["resident"],
                               message=out["message"]))
    return 0



def add_commands(sub) -> None:
    r = sub.add_parser("certify-resident", help=text("cli_help_certify_resident"))
    r.add_argument("resident", help=text("cli_help_id_number"))
    r.add_argument("--video", help=text("cli_help_video"))
    r.add_argument("--camera", help=text("cli_help_camera"))
    r.add_argument("--virtual", action="store_true", help=text("cli_help_virtual"))
    r.add_argument("--category", help=text("cli_help_category"))
    r.add_argument("--actions", help=text("cli_help_actions"))
    r.add_argument("--helper", help=text("cli_help_certify_resident_helper"))
    r.add_argument("--helper-id", help=text("cli_help_certify_resident_helper_id"))
    r.add_argument("--operator", help=text("cli_help_operator"))
    r.add_argument("--db", help=text("cli_help_db"))
    r.add_argument("--key", help=text("cli_help_key"))
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_certify_resident)

    f = sub.add_parser("fallback", help=text("cli_help_fallback"))
    f.add_argument("id_number", help=text("cli_help_id_number"))
    f.add_argument("--method", required=True, choices=("staff_witness", "relative_pledge"),
                   help=text("cli_help_fallback_method"))
    f.add_argument("--operator", required=True, help=text("cli_help_fallback_operator"))
    f.add_argument("--reason", required=True, help=text("cli_help_fallback_reason"))
    f.add_argument("--relative-name", help=text("cli_help_fallback_relative_name"))
    f.add_argument("--relation", help=text("cli_help_fallback_relation"))
    f.add_argument("--relative-id", help=text("cli_help_fallback_relative_id"))
    f.add_argument("--relative-phone", help=text("cli_help_fallback_relative_phone"))
    f.add_argument("--category", help=text("cli_help_category"))
    f.add_argument("--today", help=text("cli_help_today"))
    f.add_argument("--db", help=text("cli_help_db"))
    f.add_argument("--key", help=text("cli_help_key"))
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=cmd_fallback)

    d = sub.add_parser("demo", help=text("cli_help_demo"))
    d.add_argument("--fast", action="store_true", help=text("cli_help_demo_fast"))
    d.add_argument("--seed", type=int)
    d.set_defaults(func=cmd_demo)

    for name, func in (("enroll", cmd_enroll), ("residents", cmd_residents), ("status", cmd_status)):
        s = sub.add_parser(name, help=text(f"cli_help_{name}"))
        s.add_argument("--db", help=text("cli_help_db"))
        s.add_argument("--key", help=text("cli_help_key"))
        s.add_argument("--json", action="store_true")
        s.set_defaults(func=func)
        if name == "enroll":
            s.add_argument("id_number")
            s.add_argument("name")
            s.add_argument("photos", nargs="+", help=text("cli_help_enroll_photos"))
            s.add_argument("--village")
            s.add_argument("--category", action="append", help=text("cli_help_enroll_category"))
            s.add_argument("--operator", help=text("cli_help_operator"))
        elif name == "residents":
            s.add_argument("--village")
        else:
            s.add_argument("id_number")
            s.add_argument("--today", help=text("cli_help_today"))
