"""`kiosk enrol | enrolments [approve | reject]`: enrolment at the terminal (建模) with a second operator's review.

`kiosk enrol ID (--camera N | --video V | --virtual) --operator NAME` runs liveness and the pose
capture (kiosk.enrolment) and saves the template set as pending review; `kiosk enrolments`
lists (masked); `approve` / `reject` by a reviewer or admin who did not enrol it. An enrolment whose
face resembles another resident of this terminal (kiosk.dupface, 像他人) is approved only with
`--confirm-different-person "how it was checked"`. PINs: one line
of stdin (or the terminal), never argv. Consent: `--consent-read` or a typed "y".
The county side (who enrolled and approved, template sharing by county policy) is the sync
branch's seam: the store's enrolments table and its audit entries carry what it needs.
"""
from __future__ import annotations

import sys

from kiosk.cli.common import CliError, _drive, _emit, _open_store, clock, staff_source, verify_operator
from kiosk.texts import event_text, text


def _echo(t, events) -> None:
    for ev in events:
        line = text(f"enrol_{ev.code}") if ev.kind == "enrol" else event_text(ev.kind, ev.code, ev.data)
        if line and ev.kind in ("prompt", "guidance", "state", "progress", "enrol"):
            print(f"  [{t:5.1f} s] {line}" if t is not None else f"  {line}", flush=True)


def _consent(args) -> None:
    if args.consent_read:
        return
    if sys.stdin is not None and sys.stdin.isatty():
        if input(text("enrol_consent_prompt")).strip().lower() in ("y", "yes", text("cli_answer_yes")):
            return
    from kiosk.enrolment import EnrolmentError

    raise EnrolmentError("consent_required")


def cmd_enrol(args) -> int:
    from kiosk.config import Settings
    from kiosk.core.ids import InvalidIdNumber, mask_id, mask_name, parse_id_number
    from kiosk.dupface import save_enrolment
    from kiosk.enrolment import EnrolmentSession, check_enroller, refusal_message, result_of
    from kiosk.matching.embedders import make_embedder
    from kiosk.observe import FaceObserver
    from kiosk.pad.options import session_pad_options

    sources = [x for x in (args.video, args.camera, args.virtual or None) if x is not None]
    if len(sources) != 1:
        raise CliError("usage", text("cli_one_source"))
    try:
        rid = parse_id_number(args.id_number, clock(args).today())
    except InvalidIdNumber as e:
        raise CliError("bad_id_number", e.message) from e
    settings = Settings.load()
    with _open_store(args) as store:
        op = verify_operator(store, args.operator)  # the PIN (one line of stdin) before anything else
        check_enroller(op)
        resident = store.get_resident(rid.number)
        if resident is None:
            raise CliError("unknown_resident", text("visit_unknown_resident", id=mask_id(rid.number)))
        _consent(args)
        consent_at = store.clock.utc_now()
        encoder = make_embedder(settings)
        session = EnrolmentSession(encoder, n_actions=settings.actions_per_challenge,
                                   step_timeout_s=settings.step_timeout_s,
                                   **session_pad_options(settings, args.video is None))
        source, on_events = staff_source(args, session, None if args.json else _echo)
        with FaceObserver() as observer:
            _drive(session, source, observer, on_events=on_events)
        result = result_of(session)
        if not result.ok:
            store.audit(op.name, "enrolment_refused", {"resident": mask_id(rid.number), "reason": result.code})
            raise CliError(result.code, refusal_message(result))
        eid = save_enrolment(store, settings, rid.number, result.vectors, encoder.name, enrolled_by=op.name,
                             consent_read_by=op.name, consent_at=consent_at, quality=result.quality)
        saved = store.get_enrolment(eid)
        assert saved is not None
        out = {"status": "pending_review", "enrolment": eid, "frames": len(result.vectors),
               "resident": mask_id(rid.number), "name": mask_name(resident.name), "enrolled_by": op.name,
               "quality": {k: result.quality[k] for k in ("frames", "candidates", "continuity_max")},
               "pose_spread": result.quality.get("pose_spread"), **_resemblance(store, saved)}
    human = text("enrol_cli_pending", name=out["name"], id=out["resident"], frames=out["frames"], enrolment=eid)
    if out["resembles_other"]:
        human += "\n" + text("dupface_cli_pending_warning", n=out["resembles_other"])
    _emit(out, args.json, human)
    return 0


def _public(e: dict) -> dict:
    from kiosk.core.ids import mask_id
    from kiosk.enrolment import enrolment_pose_spread

    return {"enrolment": e["id"], "resident": mask_id(e["resident"]), "status": e["status"], "frames": e["frames"],
            "backend": e["backend"], "enrolled_by": e["enrolled_by"], "consent_read_by": e["consent_read_by"],
            "consent_at": e["consent_at"], "created_at": e["created_at"], "reviewed_by": e["reviewed_by"],
            "reviewed_at": e["reviewed_at"], "reject_reason": e["reject_reason"],
            "pose_spread": enrolment_pose_spread(e.get("quality") or {})}


def _resemblance(store, e: dict) -> dict:
    """The duplicate-face check's findings (kiosk.dupface), masked: every other resident kept, with
    distance and whether it is within the 1:1 threshold; `resembles_other` counts those within."""
    from kiosk.core.ids import mask_id, mask_name

    matches = []
    for r in e.get("resembles") or []:
        person = store.get_resident(r["resident"]) if r.get("resident") else None
        matches.append({"resident": mask_id(r["resident"]) if r.get("resident") else None,
                        "name": mask_name(person.name) if person else None, "distance": r.get("distance"),
                        "within": bool(r.get("within")), "method": r.get("method"), "threshold": r.get("threshold"),
                        "source": r.get("source")})
    conf = e.get("resemble_confirmation")
    return {"resembles_other": sum(m["within"] for m in matches), "resembles": matches,
            "resemble_confirmation": {k: conf.get(k) for k in ("kind", "reason", "by", "at")} if conf else None}


def _print_resembles(o: dict) -> None:
    for m in o["resembles"]:
        if m["within"]:
            print(text("dupface_cli_resembles", name=m["name"] or "", id=m["resident"] or "?",
                       distance=m["distance"], source=text(f"dupface_source_{m['source'] or 'enrolled'}")), flush=True)


def cmd_enrolments(args) -> int:
    if args.action in ("approve", "reject"):
        return _review(args)
    from kiosk.core.ids import mask_name

    with _open_store(args) as store:
        rows = store.list_enrolments(status="pending_review" if args.pending else None)
        out = []
        for e in rows:
            r = store.get_resident(e["resident"])
            out.append({**_public(e), "name": mask_name(r.name) if r else None, **_resemblance(store, e)})
    if args.json:
        _emit({"enrolments": out}, True)
        return 0
    if not out:
        print(text("enrol_cli_none"), flush=True)
    from kiosk.enrolment import pose_spread_line

    for o in out:
        print(text("cli_enrolments_row", enrolment=o["enrolment"], resident=o["resident"], name=o["name"] or "",
                   status=text("enrol_status_" + o["status"]), frames=o["frames"], enrolled_by=o["enrolled_by"],
                   reviewed_by=o["reviewed_by"] or "-")
              + f"  {pose_spread_line(o['pose_spread'])}"
              + (f"  ※{text('dupface_cli_flag')} {o['resembles_other']}" if o["resembles_other"] else ""), flush=True)
        _print_resembles(o)
    return 0


def _find(store, ref: str) -> dict:
    """An enrolment by its number, or the pending enrolment of a resident by ID number."""
    from kiosk.enrolment import EnrolmentError

    if ref.isdigit() and len(ref) < 18:
        e = store.get_enrolment(int(ref))
    else:
        pending = store.list_enrolments(status="pending_review", resident_id=ref)
        e = pending[-1] if pending else None
    if e is None:
        raise EnrolmentError("not_pending", id=ref)
    return e


def _review(args) -> int:
    from kiosk.core.ids import mask_id
    from kiosk.enrolment import EnrolmentError, check_reviewer

    if not args.target or not args.operator:
        raise CliError("usage", text("cli_enrolments_usage"))
    if args.action == "reject" and not (args.reason or "").strip():
        raise EnrolmentError("no_reason")
    with _open_store(args) as store:
        op = verify_operator(store, args.operator)
        e = _find(store, args.target)
        check_reviewer(op, e)
        decision = "approved" if args.action == "approve" else "rejected"
        confirmation = None
        if decision == "approved":  # a face that resembles another resident: only with the reviewer's word
            from kiosk.dupface import require_confirmation

            given = args.confirm_different_person
            confirmation = require_confirmation(e, "different_person" if given is not None else None, given)
        e = store.review_enrolment(e["id"], decision, op.name, reason=args.reason if decision == "rejected" else None,
                                   confirmation=confirmation)
        out = {**_public(e), **_resemblance(store, e)}
    human = (text("enrol_cli_approved", enrolment=e["id"], id=mask_id(e["resident"])) if decision == "approved"
             else text("enrol_cli_rejected", enrolment=e["id"], reason=e["reject_reason"]))
    _emit(out, args.json, human)
    return 0


def add_commands(sub) -> None:
    def common(p) -> None:
        p.add_argument("--db", help=text("cli_help_db"))
        p.add_argument("--key", help=text("cli_help_key"))
        p.add_argument("--json", action="store_true")

    e = sub.add_parser("enrol", help=text("cli_help_enrol"))
    e.add_argument("id_number", help=text("cli_help_id_number"))
    e.add_argument("--video", help=text("cli_help_video"))
    e.add_argument("--camera", help=text("cli_help_camera"))
    e.add_argument("--virtual", action="store_true", help=text("cli_help_virtual"))
    e.add_argument("--operator", required=True, help=text("cli_help_enrol_operator"))
    e.add_argument("--consent-read", action="store_true", help=text("cli_help_enrol_consent_read"))
    common(e)
    e.set_defaults(func=cmd_enrol)

    ls = sub.add_parser("enrolments", help=text("cli_help_enrolments"))
    ls.add_argument("action", nargs="?", choices=("list", "approve", "reject"), default="list")
    ls.add_argument("target", nargs="?", help=text("cli_help_enrolments_target"))
    ls.add_argument("--pending", action="store_true", help=text("cli_help_enrolments_pending"))
    ls.add_argument("--operator", help=text("cli_help_enrolments_operator"))
    ls.add_argument("--reason", help=text("cli_help_enrolments_reason"))
    ls.add_argument("--confirm-different-person", metavar=text("cli_metavar_reason"),
                    help=text("cli_help_enrolments_confirm"))
    common(ls)
    ls.set_defaults(func=cmd_enrolments)
