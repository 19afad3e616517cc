"""`kiosk`: the command line for people and scripts (county IT, batch checks, diagnosis).

Exit 0 when a command ran, whatever the verdict; exit 2 with a one-line message
(under --json: {"error": code, "message": str}) for an unreadable file, no face,
several faces or other bad input.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class CliError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _emit(obj: dict, as_json: bool, human: str | None = None) -> None:
    if as_json:
        print(json.dumps(obj, ensure_ascii=False), flush=True)
    else:
        print(human if human is not None else json.dumps(obj, ensure_ascii=False, indent=2), flush=True)


def _progress(iterable, total: int, desc: str):
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, disable=total < 2, leave=False)


def _matcher(args, backend: str | None = None):
    """The calibrated matcher of the embedding backend (default: the configured one's, dlib if unset)."""
    from dataclasses import replace

    from kiosk.config import Settings
    from kiosk.matching.encoder import BACKEND_NAME
    from kiosk.matching.scoring import Matcher

    m = Matcher.from_settings(Settings.load(), backend or BACKEND_NAME)
    return replace(m, raw_threshold=args.threshold) if getattr(args, "threshold", None) else m


def _photo_encoder():
    """PhotoEncoder with the configured embedding backend (kiosk.toml: embedding_backend)."""
    from kiosk.config import Settings
    from kiosk.faces import PhotoEncoder
    from kiosk.matching.embedders import make_embedder

    return PhotoEncoder(make_embedder(Settings.load()))


# ---------------------------------------------------------------- verify
def cmd_verify(args) -> int:
    from kiosk.faces import PhotoError

    enc = _photo_encoder()
    matcher = _matcher(args, enc.encoder.name)
    if args.pairs:
        pairs_path = Path(args.pairs)
        if not pairs_path.is_file():
            raise CliError("unreadable_file", f"找不到配对文件：{pairs_path}")
        with pairs_path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if rows and not {"probe", "template"} <= set(rows[0]):
            raise CliError("bad_pairs_file", "配对文件需要 probe,template 两列。")
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
        raise CliError("usage", "用法：kiosk verify 待验照片 模板照片 [--json]，或 kiosk verify --pairs PAIRS.csv")
    try:
        res = matcher.compare(enc.encode_file(args.probe), enc.encode_template(args.template))
    except PhotoError as e:
        raise CliError(e.code, e.message) from e
    out = {"match": res.match, "distance": round(res.distance, 4), "threshold": res.threshold}
    if res.method != "raw":
        out.update(method=res.method, score=round(res.score, 4))
    value = f"得分 {res.score:.3f}" if res.method != "raw" else f"距离 {res.distance:.3f}"
    _emit(out, args.json, f"{'是同一人' if res.match else '不是同一人'}（{value}，阈值 {res.threshold}）")
    return 0


# ---------------------------------------------------------------- calibrate
def cmd_calibrate(args) -> int:
    from dataclasses import replace

    from kiosk.calibrate import format_report, run, write_operating_point
    from kiosk.config import Settings
    from kiosk.matching.scoring import Matcher

    pairs_path = Path(args.pairs)
    if not pairs_path.is_file():
        raise CliError("unreadable_file", f"找不到配对文件：{pairs_path}")
    if args.groups and not Path(args.groups).is_file():
        raise CliError("unreadable_file", f"找不到分组文件：{args.groups}")
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
        raise CliError("bad_pairs_file", f"配对文件格式不对：{e}（需要 file_a,file_b,label 或 probe,template 列）") from e
    if args.write:
        ops = {m: (r["target_threshold"] or {}).get("threshold") for m, r in rep["methods"].items()}
        if all(v is None for v in ops.values()):
            raise CliError("no_operating_point", "没有任何阈值能达到目标误识率，未写入设置。")
        path = write_operating_point(settings, enc.encoder.name, ops.get("raw"), ops.get("snorm"),
                                     centred_threshold=ops.get("centred"))
        rep["written"] = {"path": str(path), "backend": enc.encoder.name, **{k: v for k, v in ops.items() if v is not None}}
    human = format_report(rep) + (f"\n已写入 {rep['written']['path']}（{rep['written']['backend']}）" if args.write else "")
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
            lines = [f"{video}: {res['frames']} 帧，{res['face_frames']} 帧有人脸，{res['duration_s']} 秒，处理 {res['processing_fps']} 帧/秒"]
            lines += [f"  {e['start_s']:7.2f}–{e['end_s']:7.2f} s  {e['action']}" for e in res["events"]]
            print("\n".join(lines))
    return 0


# ---------------------------------------------------------------- certify
def _certify_one(video: str, template: str, actions: list[str] | None, photo_encoder, settings) -> dict:
    from kiosk.frames import open_source
    from kiosk.liveness import validate_actions
    from kiosk.observe import FaceObserver
    from kiosk.session import CertificationSession, run_session

    if actions:
        validate_actions(actions)
    template_vecs = photo_encoder.encode_template(template)
    source = open_source(video)
    session = CertificationSession(template_vecs, photo_encoder.encoder, actions=actions,
                                   n_actions=settings.actions_per_challenge, step_timeout_s=settings.step_timeout_s,
                                   matcher=_matcher(argparse.Namespace(), photo_encoder.encoder.name))
    with FaceObserver() as observer:
        verdict = run_session(session, source, observer)
    return verdict.to_json()


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
            raise CliError("unreadable_file", f"找不到任务文件：{jobs_path}")
        lines = [ln for ln in jobs_path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        base = jobs_path.parent
        for n, line in enumerate(_progress(lines, len(lines), "certify"), 1):
            try:
                job = json.loads(line)
                video, template, actions = job["video"], job["template"], job.get("actions")
            except (json.JSONDecodeError, KeyError, TypeError):
                _emit({"line": n, "error": "bad_job", "message": f"第{n}行不是有效的任务（需要 video 和 template）。"}, True)
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
        raise CliError("usage", "用法：kiosk certify --video 视频 --template 模板照片 [--actions blink,turn_left] [--json]")
    actions = [a.strip() for a in args.actions.split(",") if a.strip()] if args.actions else None
    try:
        out = _certify_one(args.video, args.template, actions, enc, settings)
    except PhotoError as e:
        raise CliError(e.code, e.message) from e
    except FrameSourceError as e:
        raise CliError(e.code, e.message) from e
    except BadActions as e:
        raise CliError(e.code, e.message) from e
    from kiosk.texts import text

    human = f"{text('cli_pass' if out['verdict'] == 'pass' else 'cli_fail')}：{out['message']}\n" + "\n".join(
        f"  {s['action']}: {'完成' if s['passed'] else '未完成'}" + (f"（{s['at_s']} 秒）" if s["at_s"] is not None else "")
        for s in out["steps"])
    _emit(out, args.json, human)
    return 0


# ---------------------------------------------------------------- demo
def _drive(session, source, observer, *, on_events=None, max_s: float = 120.0):
    """Feed a session from a source until its verdict (`kiosk.driver.drive`); `on_events(t, events)`
    sees every frame's events (t is None for the last ones)."""
    from kiosk.driver import drive

    return drive(session, source, observer, on_events=on_events, max_s=max_s)


def _echo(t, events) -> None:
    from kiosk.texts import event_text

    for ev in events:
        line = event_text(ev.kind, ev.code, ev.data)
        if line and ev.kind in ("prompt", "guidance", "state", "progress", "result"):
            print(f"  [{t:5.1f} s] {line}" if t is not None else f"  {line}", flush=True)


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

    print("【演示】村口认证：虚拟摄像头（公有领域宇航员肖像）将按语音提示完成动作。", flush=True)
    encoder = DlibEncoder()
    cam = VirtualCamera(realtime=not args.fast, seed=args.seed)
    with FaceObserver(static=True) as still:
        first = next(iter(cam))
        enrolment = still.observe(first)
        template = [encoder.encode(first.rgb, enrolment.face)]
    session = CertificationSession(template, encoder, n_actions=2)
    print(f"本次随机动作：{'、'.join(session.actions)}", flush=True)
    follower = PromptFollower(cam)

    def on_events(t, events):
        _echo(t, events)
        if t is not None:
            follower(t, events)

    with FaceObserver() as observer:
        v = _drive(session, cam, observer, on_events=on_events, max_s=90)
    from kiosk.texts import text

    print(f"结果：{text('cli_result_pass' if v.verdict == 'pass' else 'cli_result_fail')} — {v.message}", flush=True)
    return 0


def cmd_certify_resident(args) -> int:
    """A real certification of an enrolled resident, recorded in the store like the app does
    (attempt + outbox + audit): for 上门认证 on a laptop, county IT checks, and drills."""
    from kiosk.config import Settings
    from kiosk.frames import FrameSourceError, open_source
    from kiosk.liveness import BadActions, validate_actions
    from kiosk.observe import FaceObserver
    from kiosk.service import CertificationService, Helper, ServiceError

    sources = [x for x in (args.video, args.camera, args.virtual or None) if x is not None]
    if len(sources) != 1:
        raise CliError("usage", "请只选一种画面来源：--video 视频文件、--camera 摄像头编号 或 --virtual（演示虚拟摄像头）。")
    actions = [a.strip() for a in args.actions.split(",") if a.strip()] if args.actions else None
    try:
        if actions:
            validate_actions(actions)
    except BadActions as e:
        raise CliError(e.code, e.message) from e
    settings = Settings.load()
    with _open_store(args) as store:
        service = CertificationService(store, settings)
        try:
            attempt = service.begin(args.resident, args.category,
                                    helper=Helper(args.helper, args.helper_id) if args.helper else None,
                                    operator=args.operator, actions=actions)
        except ServiceError as e:
            raise CliError(e.code, e.message) from e
        on_events = None if args.json else _echo
        if args.virtual:
            from kiosk.demo.follower import PromptFollower
            from kiosk.demo.virtual_camera import VirtualCamera

            source = VirtualCamera(realtime=False)
            follower = PromptFollower(source)

            def on_events(t, events, echo=on_events):
                echo and echo(t, events)
                if t is not None:
                    follower(t, events)
        else:
            try:
                source = open_source(args.camera if args.camera is not None else args.video)
            except FrameSourceError as e:
                raise CliError(e.code, e.message) from e
        with FaceObserver() as observer:
            _drive(attempt.session, source, observer, on_events=on_events)
        outcome = service.record(attempt)
    out = {"verdict": outcome.verdict, "reason": outcome.reason, "message": outcome.message,
           "steps": attempt.session.verdict.steps, "attempt": outcome.attempt_uuid,
           "valid_until": outcome.valid_until.isoformat() if outcome.valid_until else None,
           "attempts_left": outcome.attempts_left}
    from kiosk.texts import text

    _emit(out, args.json, f"{text('cli_result_pass' if outcome.verdict == 'pass' else 'cli_result_fail')}：{outcome.message}"
                          f"（今天还可以刷脸 {outcome.attempts_left} 次）")
    return 0


# ---------------------------------------------------------------- roster
def _open_store(args):
    from kiosk.config import home_dir, key_file
    from kiosk.store import Store

    db = Path(args.db) if args.db else home_dir() / "kiosk.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    return Store.open(db, Path(args.key) if args.key else key_file())


def cmd_enroll(args) -> int:
    from kiosk.faces import PhotoError
    from kiosk.policy import Category
    from kiosk.residents import InvalidIdNumber, mask_id, mask_name, parse_id_number

    try:
        rid = parse_id_number(args.id_number)
    except InvalidIdNumber as e:
        raise CliError("bad_id_number", e.message) from e
    enc = _photo_encoder()
    try:
        vecs = [v for p in args.photos for v in enc.encode_template(p)]
    except PhotoError as e:
        raise CliError(e.code, e.message) from e
    cats = [Category.parse(c) for c in (args.category or ["pension"])]
    with _open_store(args) as store:
        with store.transaction():
            store.upsert_resident(rid.number, args.name, village=args.village, categories=cats)
            for v in vecs:
                store.add_template(rid.number, v, enc.encoder.name, source="local")
            store.audit(args.operator, "enroll", {"resident": mask_id(rid.number), "photos": len(vecs)})
    _emit({"resident": mask_id(rid.number), "name": mask_name(args.name), "templates": len(vecs)}, args.json,
          f"已为 {mask_name(args.name)}（{mask_id(rid.number)}）建模，共 {len(vecs)} 张照片。")
    return 0


def cmd_residents(args) -> int:
    from kiosk.residents import mask_id, mask_name

    with _open_store(args) as store:
        rows = store.list_residents(village=args.village)
        for r in rows:
            obj = {"id": mask_id(r.id_number), "name": mask_name(r.name), "village": r.village,
                   "categories": [c.label for c in r.categories], "county_status": r.county_status}
            _emit(obj, args.json, f"{obj['id']}  {obj['name']}  {r.village or ''}  {'、'.join(obj['categories'])}")
    return 0


def cmd_status(args) -> int:
    from datetime import date

    from kiosk.config import Settings
    from kiosk.policy import certification_status
    from kiosk.residents import InvalidIdNumber, mask_id, mask_name, parse_id_number

    try:
        rid = parse_id_number(args.id_number)
    except InvalidIdNumber as e:
        raise CliError("bad_id_number", e.message) from e
    with _open_store(args) as store:
        r = store.get_resident(rid.number)
        if r is None:
            raise CliError("unknown_resident", f"本机名册中没有 {mask_id(rid.number)}。请核对号码，或等待县里同步名册。")
        today = date.fromisoformat(args.today) if args.today else date.today()
        from kiosk.sync import cycle_rule

        st = certification_status(cycle_rule(store, Settings.load()), rid.birth_date, today,
                                  last_certified=store.last_certified(rid.number),
                                  data_comparison_on=r.data_comparison_on, benefit_start=r.benefit_start,
                                  suspended=r.county_status == "suspended", deceased=r.county_status == "deceased")
    obj = {"id": mask_id(rid.number), "name": mask_name(r.name), "status": st.kind, "message": st.message,
           "valid_until": st.valid_until.isoformat() if st.valid_until else None,
           "due_by": st.due_by.isoformat() if st.due_by else None}
    _emit(obj, args.json, f"{obj['name']}（{obj['id']}）：{st.message}")
    return 0


# ---------------------------------------------------------------- app
def cmd_app(args) -> int:
    """The touchscreen kiosk app (Qt Quick, kiosk/app)."""
    from kiosk.app.bootstrap import Options, run

    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        raise SystemExit("--size 应为 宽x高，如 1920x1080") from None
    actions = [a.strip() for a in args.actions.split(",") if a.strip()] if args.actions else None
    return run(Options(demo=args.demo or args.autopilot or bool(args.video), video=args.video,
                       autopilot=args.autopilot, screenshots=args.screenshots, elder=args.elder,
                       fullscreen=not (args.demo or args.autopilot or args.video), size=(w, h), actions=actions))


# ---------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description="村口认证：社会保险待遇领取资格认证终端"
                                "（不带子命令：启动触摸屏认证程序）")
    # The touchscreen app (kiosk/app): `kiosk` full screen, `kiosk --demo` windowed demo.
    p.add_argument("--demo", action="store_true", help="演示模式：演示数据库、虚拟摄像头，窗口运行")
    p.add_argument("--video", help="用录好的视频代替摄像头（演示）")
    p.add_argument("--actions", help="固定动作顺序，如 blink,turn_left（配合 --video）")
    p.add_argument("--autopilot", action="store_true", help="自动走完整个流程（演示）")
    p.add_argument("--screenshots", help="--autopilot 时每个画面存一张 PNG 到此文件夹")
    p.add_argument("--elder", action="store_true", help="以关怀大字版启动")
    p.add_argument("--size", default="1366x768", help="演示窗口大小，如 1920x1080、1080x1920")
    sub = p.add_subparsers(dest="command")

    v = sub.add_parser("verify", help="1:1 比对两张照片（或 --pairs 批量）")
    v.add_argument("probe", nargs="?")
    v.add_argument("template", nargs="?", help="模板照片，或同一人的照片文件夹")
    v.add_argument("--pairs", help="CSV（probe,template 列，路径相对于 CSV）")
    v.add_argument("--threshold", type=float)
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_verify)

    k = sub.add_parser("calibrate", help="按人群统计误识率/拒识率，选出阈值（可写入设置）")
    k.add_argument("--pairs", required=True, help="CSV：file_a,file_b,label 或 probe,template[,label]（路径相对于 CSV）")
    k.add_argument("--groups", help="groups.json：{组名: [人员文件夹通配符]}")
    k.add_argument("--target-fmr", type=float, default=0.005, help="目标误识率（默认 0.005，每个组都要达到）")
    k.add_argument("--group-fmr", type=float, help="组内目标误识率（默认同 --target-fmr）")
    k.add_argument("--method", choices=["raw", "snorm", "centred", "all"], default="all")
    k.add_argument("--all-pairs", action="store_true", help="用 CSV 中所有照片两两配对，而不只是列出的配对")
    k.add_argument("--loo", action="store_true", help="另算多照片模板（留一法）和名册交叉核对")
    k.add_argument("--thresholds", help="表中列出的阈值，逗号分隔")
    k.add_argument("--raw-cap", type=float, help="s-norm 的原始距离上限（默认取设置）")
    k.add_argument("--write", action="store_true", help="把达到目标的阈值写入 kiosk.toml（按比对方式分别保存）")
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=cmd_calibrate)

    a = sub.add_parser("analyze", help="分析视频中的眨眼、转头、张嘴、点头")
    a.add_argument("videos", nargs="+")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_analyze)

    c = sub.add_parser("certify", help="用录制的视频走一遍完整认证")
    c.add_argument("--video")
    c.add_argument("--template")
    c.add_argument("--actions", help="固定动作顺序，如 blink,turn_left（不填则随机）")
    c.add_argument("--batch", help="JSONL 任务文件：每行 {video, template, actions}")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_certify)

    r = sub.add_parser("certify-resident", help="为本机名册中的居民认证并记录（上门认证、演练）")
    r.add_argument("resident", help="身份证号码")
    r.add_argument("--video", help="录制的视频（代替摄像头）")
    r.add_argument("--camera", help="摄像头编号，如 0")
    r.add_argument("--virtual", action="store_true", help="演示虚拟摄像头（宇航员肖像）")
    r.add_argument("--category", help="认证类别（不填则取此人的第一项）")
    r.add_argument("--actions", help="固定动作顺序，如 blink,turn_left（不填则随机）")
    r.add_argument("--helper", help="代他人认证：协助人与被认证人的关系，如 子女")
    r.add_argument("--helper-id", help="协助人身份证号码（可不填）")
    r.add_argument("--operator", help="操作的协理员")
    r.add_argument("--db", help="数据库文件（默认 $KIOSK_HOME/kiosk.db）")
    r.add_argument("--key", help="模板密钥文件（默认 $KIOSK_KEY_FILE）")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_certify_resident)

    d = sub.add_parser("demo", help="演示：用虚拟摄像头走完整个认证流程（无需摄像头）")
    d.add_argument("--fast", action="store_true", help="不按实时速度播放（测试用）")
    d.add_argument("--seed", type=int)
    d.set_defaults(func=cmd_demo)

    for name, helptext, func in (("enroll", "为居民建模（登记照片）", cmd_enroll),
                                 ("residents", "列出本机名册", cmd_residents),
                                 ("status", "查询认证状态", cmd_status)):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("--db", help="数据库文件（默认 $KIOSK_HOME/kiosk.db）")
        s.add_argument("--key", help="模板密钥文件（默认 $KIOSK_KEY_FILE）")
        s.add_argument("--json", action="store_true")
        s.set_defaults(func=func)
        if name == "enroll":
            s.add_argument("id_number")
            s.add_argument("name")
            s.add_argument("photos", nargs="+", help="照片或照片文件夹")
            s.add_argument("--village")
            s.add_argument("--category", action="append", help="认证类别，可多次：pension、work_injury…")
            s.add_argument("--operator", default="cli")
        elif name == "residents":
            s.add_argument("--village")
        else:
            s.add_argument("id_number")
            s.add_argument("--today", help="按指定日期计算（YYYY-MM-DD）")
    from kiosk.sync.commands import add_commands as add_sync_commands

    add_sync_commands(sub)  # county sync: county …, register, sync, export
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        return cmd_app(args)
    from kiosk.matching.embedders import EmbedderError
    from kiosk.store import StoreError

    try:
        return args.func(args)
    except CliError as e:
        _emit({"error": e.code, "message": e.message}, getattr(args, "json", False), f"错误：{e.message}")
        return 2
    except (StoreError, EmbedderError) as e:
        _emit({"error": e.code, "message": e.message}, getattr(args, "json", False), f"错误：{e.message}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
