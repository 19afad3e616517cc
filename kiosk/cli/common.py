"""Helpers every `kiosk` command group uses: errors, output, progress, the matcher, the store.

Imports nothing from the other kiosk.cli modules (they import this one).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from kiosk.core.errors import KioskError
from kiosk.texts import event_text, text


class CliError(KioskError):
    """Bad input to a command: exit 2 with `message` on one line."""


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



def _drive(session, source, observer, *, on_events=None, max_s: float = 120.0):
    """Feed a session from a source until its verdict (`kiosk.driver.drive`); `on_events(t, events)`
    sees every frame's events (t is None for the last ones)."""
    from kiosk.driver import drive

    return drive(session, source, observer, on_events=on_events, max_s=max_s)


def _echo(t, events) -> None:
    for ev in events:
        line = event_text(ev.kind, ev.code, ev.data)
        if line and ev.kind in ("prompt", "guidance", "state", "progress", "result"):
            print(f"  [{t:5.1f} s] {line}" if t is not None else f"  {line}", flush=True)



def clock(args=None):
    """The service area's clock (kiosk.toml `timezone`); `--today YYYY-MM-DD` fixes it to that day."""
    from kiosk.config import Settings
    from kiosk.core.clock import Clock, ZONE_ENV

    settings = Settings.load()
    today = getattr(args, "today", None)
    if today:
        try:
            return Clock.fixed(today, os.environ.get(ZONE_ENV) or settings.timezone)
        except ValueError:
            raise CliError("usage", text("cli_bad_today", value=today)) from None
    return settings.clock()


def _open_store(args, clock_=None, *, require_key: bool = True):
    """`require_key=False` for commands that move records only (sync, export): they work with
    the template key lost."""
    from kiosk.config import home_dir, key_file
    from kiosk.store import Store

    db = Path(args.db) if args.db else home_dir() / "kiosk.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    return Store.open(db, Path(args.key) if args.key else key_file(), clock=clock_ or clock(args),
                      require_key=require_key)



def bar(desc: str):
    """A tqdm progress callback (stage, done, total) on stderr; silent when not a terminal."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def tick(stage: str, done: int, total: int) -> None:
        if total < 2:
            return
        b = bars.get(stage)
        if b is None:
            b = bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, leave=False,
                                   disable=not sys.stderr.isatty())
        b.total = max(b.total, total)
        b.n = done
        b.refresh()

    tick.bars = bars  # type: ignore[attr-defined]  # the caller closes the bars
    return tick


# --- staff PINs: read from the terminal (getpass) or one line of stdin, never from argv -------

def read_pin(prompt: str) -> str:
    """One PIN: typed at the terminal without echo, or the next line of stdin (scripts)."""
    from kiosk.operators import OperatorError

    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        pin = getpass.getpass(prompt)
    else:
        pin = sys.stdin.readline() if sys.stdin is not None else ""
    pin = pin.rstrip("\r\n")
    if not pin:
        raise OperatorError("no_pin")
    return pin


def read_new_pin(prompt: str, again: str) -> str:
    """A new PIN, confirmed: twice at the terminal; from stdin one line, or the same line twice."""
    from kiosk.operators import OperatorError

    pin = read_pin(prompt)
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        second = getpass.getpass(again)
    else:
        second = sys.stdin.readline().rstrip("\r\n") if sys.stdin is not None else ""
        if not second:
            return pin  # one line: no confirmation asked of a script
    if not hmac_equal(pin, second):
        raise OperatorError("pin_mismatch")
    return pin


def hmac_equal(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def verify_operator(store, name: str):
    """`--operator NAME`: read that operator's PIN (one line) and check it; OperatorError if refused."""
    from kiosk.operators import verify_pin

    return verify_pin(store, name, read_pin(text("cli_pin_prompt", name=name)))



def staff_source(args, session, on_events):
    """The frames a staff command certifies or enrols from (`--virtual`, `--camera N` or `--video V`)
    and the event callback to drive the session with. No screen here: the virtual face performs
    each prompt after it is given and is lit by the session's colour flash from the challenge
    on, as the app's face screen would light it. Returns (source, on_events)."""
    from kiosk.frames import FrameSourceError, open_source

    if not args.virtual:
        try:
            return open_source(args.camera if args.camera is not None else args.video), on_events
        except FrameSourceError as e:
            raise CliError(e.code, e.message) from e
    from kiosk.demo.follower import PromptFollower
    from kiosk.demo.virtual_camera import VirtualCamera

    cam = VirtualCamera(realtime=False)
    follower = PromptFollower(cam)

    def events(t, evs):
        if on_events is not None:
            on_events(t, evs)
        if t is not None:
            if session.flash_sequence is not None and any(e.kind == "state" and e.code == "challenge" for e in evs):
                session.flash_started(cam.show_flash(session.flash_sequence, t))
            follower(t, evs)

    return cam, events
