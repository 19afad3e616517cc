"""`kiosk verify | calibrate | analyze | certify`: the engine on files, for scripts and diagnosis."""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from kiosk.cli.common import CliError, _emit, _matcher, _photo_encoder, _progress
from kiosk.texts import text


# ---------------------------------------------------------------- verify
def cmd_verify(args) -> int:
    from kiosk.faces import PhotoError

    enc = _photo_encoder()
    matcher = _matcher(args, enc.encoder.name)
    if args.pairs:
        pairs_path = Path(args.pairs)
        if not pairs_path.is_file():
            raise CliError("unreadable_file", text("cli_pairs_missing", path=pairs_path))
        with pairs_path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if rows and not {"probe", "template"} <= set(rows[0]):
            raise CliError("bad_pairs_file", text("cli_pairs_columns"))
        base = pairs_path.parent
        for row in _progress(rows, len(rows), "verify"):
            out = {"probe": row["probe"], "template": row["template"]}
            try:
                res = matcher.compare(enc.encode_file(base / row["probe"]), enc.encode_template(base / row["template"]))
                out.update(match=res.match, distance=round(res.distance, 4), threshold=res.threshold)
                if res.method != "raw":  # decided on a score (population statistics), not on the distance
                    out.update(method=res.method, score=round(res.score, 4))
            except PhotoError as e:
                out.update(error=e.code, message=e.message)
            _emit(out, True)
        return 0
    if not args.probe or not args.template:
        raise CliError("usage", text("cli_verify_usage"))
    try:
        res = matcher.compare(enc.encode_file(args.probe), enc.encode_template(args.template))
    except PhotoError as e:
        raise CliError(e.code, e.message) from e
    out = {"match": res.match, "distance": round(res.distance, 4), "threshold": res.threshold}
    if res.method != "raw":
        out.update(method=res.method, score=round(res.score, 4))
    value = (text("cli_verify_score", score=res.score) if res.method != "raw"
             else text("cli_verify_distance", distance=res.distance))
    _emit(out, args.json, text("cli_verify_line", verdict=text("cli_verify_same" if res.match else "cli_verify_different"),
                               value=value, threshold=res.threshold))
    return 0


# ---------------------------------------------------------------- calibrate
def cmd_calibrate(args) -> int:
    from dataclasses import replace

    from kiosk.calibrate import format_report, run, write_operating_point
    from kiosk.config import Settings
    from kiosk.matching.scoring import Matcher

    pairs_path = Path(args.pairs)
    if not pairs_path.is_file():
        raise CliError("unreadable_file", text("cli_pairs_missing", path=pairs_path))
    if args.groups and not Path(args.groups).is_file():
        raise CliError("unreadable_file", text("cli_groups_missing", path=args.groups))
    settings = Settings.load()
    enc = _photo_encoder()
    params = settings.matching(enc.encoder.name)
    # An uncalibrated backend: no raw cap, placeholder thresholds (only the table matters).
    matcher = Matcher.from_settings(settings, enc.encoder.name) if params else Matcher(snorm_raw_cap=float("inf"))
    if args.raw_cap is not None:
        matcher = replace(matcher, snorm_raw_cap=args.raw_cap)
    grid = [float(x) for x in args.thresholds.split(",")] if args.thresholds else None
    try:
        rep = run(str(pairs_path), args.groups, args.target_fmr, args.group_fmr, args.method, args.all_pairs,
                  args.loo, enc, matcher, progress=_progress, thresholds=grid)
    except (ValueError, KeyError) as e:
        raise CliError("bad_pairs_file", text("cli_pairs_bad", detail=str(e))) from e
    if args.write:
        ops = {m: (r["target_threshold"] or {}).get("threshold") for m, r in rep["methods"].items()}
        if all(v is None for v in ops.values()):
            raise CliError("no_operating_point", text("cli_calibrate_no_threshold"))
        path = write_operating_point(settings, enc.encoder.name, ops.get("raw"), ops.get("snorm"),
                                     centred_threshold=ops.get("centred"))
        rep["written"] = {"path": str(path), "backend": enc.encoder.name, **{k: v for k, v in ops.items() if v is not None}}
    human = format_report(rep) + ("\n" + text("cli_calibrate_written", path=rep["written"]["path"],
                                               backend=rep["written"]["backend"]) if args.write else "")
    _emit(rep, args.json, human)
    return 0


# ---------------------------------------------------------------- analyze
def cmd_analyze(args) -> int:
    from kiosk.analyze import analyze_source
    from kiosk.frames import FrameSourceError, open_source
    from kiosk.observe import FaceObserver

    batch = len(args.videos) > 1
    for video in _progress(args.videos, len(args.videos), "analyze"):
        try:
            source = open_source(video)
        except FrameSourceError as e:
            if not batch:
                raise CliError(e.code, e.message) from e
            _emit({"video": video, "error": e.code, "message": e.message}, True)
            continue
        with FaceObserver() as observer:
            res = analyze_source(source, observer).to_json()
        if batch:
            res = {"video": video, **res}
        if args.json or batch:
            _emit(res, True)
        else:
            lines = [text("cli_analyze_line", video=video, frames=res["frames"], face_frames=res["face_frames"],
                          duration=res["duration_s"], fps=res["processing_fps"])]
            lines += [f"  {e['start_s']:7.2f}–{e['end_s']:7.2f} s  {e['action']}" for e in res["events"]]
            print("\n".join(lines))
    return 0


# ---------------------------------------------------------------- certify
def _certify_one(video: str, template: str, actions: list[str] | None, photo_encoder, settings) -> dict:
    from kiosk.frames import open_source
    from kiosk.liveness import validate_actions
    from kiosk.observe import FaceObserver
    from kiosk.pad.options import session_pad_options
    from kiosk.session import CertificationSession, run_session

    if actions:
        validate_actions(actions)
    template_vecs = photo_encoder.encode_template(template)
    source = open_source(video)
    session = CertificationSession(template_vecs, photo_encoder.encoder, actions=actions,
                                   n_actions=settings.actions_per_challenge, step_timeout_s=settings.step_timeout_s,
                                   matcher=_matcher(argparse.Namespace(), photo_encoder.encoder.name),
                                   **session_pad_options(settings, realtime=False))
    with FaceObserver() as observer:
        verdict = run_session(session, source, observer)
    out = verdict.to_json()
    if "pad" in verdict.liveness:  # the PAD evidence (scores stay out of what the resident is told)
        out["pad"] = verdict.liveness["pad"]
    return out


def cmd_certify(args) -> int:
    from kiosk.config import Settings
    from kiosk.faces import PhotoError
    from kiosk.frames import FrameSourceError
    from kiosk.liveness import BadActions

    settings = Settings.load()
    enc = _photo_encoder()
    if args.batch:
        jobs_path = Path(args.batch)
        if not jobs_path.is_file():
            raise CliError("unreadable_file", text("cli_jobs_missing", path=jobs_path))
        lines = [ln for ln in jobs_path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        base = jobs_path.parent
        for n, line in enumerate(_progress(lines, len(lines), "certify"), 1):
            try:
                job = json.loads(line)
                video, template, actions = job["video"], job["template"], job.get("actions")
            except (json.JSONDecodeError, KeyError, TypeError):
                _emit({"line": n, "error": "bad_job", "message": text("cli_bad_job", n=n)}, True)
                continue
            out = {"video": video, "actions": actions}
            try:
                out.update(_certify_one(str(base / video), str(base / template), actions, enc, settings))
            except PhotoError as e:
                out.update(error=e.code, message=e.message)
            except FrameSourceError as e:
                out.update(error=e.code, message=e.message)
            except BadActions as e:  # only a bad --actions list; other errors are real bugs
                out.update(error=e.code, message=e.message)
            _emit(out, True)
        return 0
    if not args.video or not args.template:
        raise CliError("usage", text("cli_certify_usage"))
    actions = [a.strip() for a in args.actions.split(",") if a.strip()] if args.actions else None
    try:
        out = _certify_one(args.video, args.template, actions, enc, settings)
    except PhotoError as e:
        raise CliError(e.code, e.message) from e
    except FrameSourceError as e:
        raise CliError(e.code, e.message) from e
    except BadActions as e:
        raise CliError(e.code, e.message) from e
    human = text("cli_label_value", label=text("cli_pass" if out["verdict"] == "pass" else "cli_fail"),
                 value=out["message"]) + "\n" + "\n".join(
        f"  {s['action']}: {text('cli_step_done' if s['passed'] else 'cli_step_not_done')}"
        + (text("cli_step_at", s=s["at_s"]) if s["at_s"] is not None else "")
        for s in out["steps"])
    _emit(out, args.json, human)
    return 0



def add_commands(sub) -> None:
    v = sub.add_parser("verify", help=text("cli_help_verify"))
    v.add_argument("probe", nargs="?")
    v.add_argument("template", nargs="?", help=text("cli_help_verify_template"))
    v.add_argument("--pairs", help=text("cli_help_verify_pairs"))
    v.add_argument("--threshold", type=float)
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_verify)

    k = sub.add_parser("calibrate", help=text("cli_help_calibrate"))
    k.add_argument("--pairs", required=True, help=text("cli_help_calibrate_pairs"))
    k.add_argument("--groups", help=text("cli_help_calibrate_groups"))
    k.add_argument("--target-fmr", type=float, default=0.005, help=text("cli_help_calibrate_target_fmr"))
    k.add_argument("--group-fmr", type=float, help=text("cli_help_calibrate_group_fmr"))
    k.add_argument("--method", choices=["raw", "snorm", "centred", "all"], default="all")
    k.add_argument("--all-pairs", action="store_true", help=text("cli_help_calibrate_all_pairs"))
    k.add_argument("--loo", action="store_true", help=text("cli_help_calibrate_loo"))
    k.add_argument("--thresholds", help=text("cli_help_calibrate_thresholds"))
    k.add_argument("--raw-cap", type=float, help=text("cli_help_calibrate_raw_cap"))
    k.add_argument("--write", action="store_true", help=text("cli_help_calibrate_write"))
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=cmd_calibrate)

    a = sub.add_parser("analyze", help=text("cli_help_analyze"))
    a.add_argument("videos", nargs="+")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_analyze)

    c = sub.add_parser("certify", help=text("cli_help_certify"))
    c.add_argument("--video")
    c.add_argument("--template")
    c.add_argument("--actions", help=text("cli_help_actions"))
    c.add_argument("--batch", help=text("cli_help_certify_batch"))
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_certify)
