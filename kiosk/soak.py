"""Reliability soak: `python -m kiosk.soak [--rounds N] [--seed S]` (a benchmark, not a unit test).

A real hub (`kiosk-county serve`, its own process, SQLite, 127.0.0.1) and a registered terminal
in a temporary folder. Each round the terminal records a few certifications and then syncs in
its own process (`python -m kiosk.soak --child ...`: the real Store and sync engine), with one
fault drawn at random:

  none          a plain sync;
  kill_terminal kill -9 of the terminal's process at a random moment while it records or syncs;
  kill_hub      kill -9 of the hub process during the sync, then the hub restarts on its data;
  disk_full     the terminal's database may not grow (SQLite `PRAGMA max_page_count` set to its
                current size): recording more certifications fails with "database or disk is full",
                then the sync runs under the same limit;
  io_error      a wrapper around the terminal's SQLite connection raises "disk I/O error" on a
                random statement during the sync (injected at the Python DB-API layer, not a VFS).

Then one last clean sync, and reconciliation: certifications the terminal holds (created) vs
stored at the hub, lost, duplicated (same attempt stored twice), unknown at the hub, still
pending, audit entries, and `PRAGMA integrity_check` of both databases. Prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

FAULTS = ("none", "kill_terminal", "kill_hub", "disk_full", "io_error")


class FaultyConnection:
    """Wraps a sqlite3 connection: after `after` statements, each statement fails with SQLite's
    own "disk I/O error" with probability `p` (once it failed, the next ones may fail too)."""

    def __init__(self, conn: sqlite3.Connection, rng: random.Random, p: float, after: int):
        self._conn, self._rng, self._p, self._after = conn, rng, p, after
        self.calls = self.injected = 0
        self.where: list[str] = []

    def _maybe_fail(self, sql) -> None:
        self.calls += 1
        if self.calls > self._after and self._rng.random() < self._p:
            self.injected += 1
            self.where.append(str(sql)[:60])
            raise sqlite3.OperationalError("disk I/O error")

    def execute(self, sql, *a, **kw):
        self._maybe_fail(sql)
        return self._conn.execute(sql, *a, **kw)

    def executemany(self, sql, *a, **kw):
        self._maybe_fail(sql)
        return self._conn.executemany(sql, *a, **kw)

    def __enter__(self):
        return self._conn.__enter__()

    def __exit__(self, *exc):
        return self._conn.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._conn, name)


# ----------------------------------------------------------------------------- the terminal's process
def child(folder: Path, fault: str, seed: int, queue: int) -> int:
    """One round on the terminal: record `queue` certifications, then sync once (exit 0 if the sync
    finished, 3 if it failed as the fault made it; a kill -9 shows as -9)."""
    from kiosk.store import Store
    from kiosk.sync import SyncError, sync_once
    from kiosk.sync_bench import queue_drill

    rng = random.Random(seed)
    result = {"fault": fault, "queued": 0, "queue_refused": 0, "sync": "ok", "injected": 0}
    phase = folder.parent / "phase"  # where a kill -9 lands (read by the driver at the kill)
    phase.write_text("recording")
    store = Store.open(folder / "kiosk.db", folder / "template.key")
    try:
        if fault == "disk_full":
            pages = store.db.execute("PRAGMA page_count").fetchone()[0]
            store.db.execute(f"PRAGMA max_page_count = {pages}")
        try:
            result["queued"] = queue_drill(store, queue, operator="soak")
        except Exception as e:  # StoreError (disk full) or sqlite3.Error: nothing half-written
            result["queue_refused"] = queue
            result["queue_error"] = type(e).__name__ + ": " + str(e)[:120]
        faulty = None
        if fault == "io_error":
            faulty = FaultyConnection(store.db.conn, rng, p=0.05, after=rng.randint(0, 40))
            store.db.conn = faulty  # type: ignore[assignment]  # the wrapper stands in for the connection
        phase.write_text("syncing")
        try:
            sync_once(store, attempts=1, timeout=5)
        except SyncError as e:
            result["sync"] = "sync_error: " + e.code
        except Exception as e:
            result["sync"] = type(e).__name__ + ": " + str(e)[:120]
        phase.write_text("closing")
        if faulty is not None:
            result["injected"] = faulty.injected
            result["injected_at"] = faulty.where[:3]
            store.db.conn = faulty._conn
    finally:
        try:
            store.close()
        except Exception:
            pass
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if result["sync"] == "ok" else 3


# ----------------------------------------------------------------------------- the driver
def _integrity(path: Path) -> str:
    c = sqlite3.connect(path)
    try:
        return c.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        c.close()


def run(rounds: int, seed: int, folder: Path, log=print) -> dict:
    from kiosk.store import Store
    from kiosk.sync import register, sync_once
    from kiosk.sync_bench import _free_port, _id, county_roster, provision, start_hub, wait_for_hub

    rng = random.Random(seed)
    hub_env = {**os.environ, "KIOSK_HOME": str(folder / "hub-home"), "KIOSK_HUB_KEY": str(folder / "hub-key" / "hub.key")}
    term = folder / "terminal"
    term.mkdir(parents=True, exist_ok=True)
    ids = [_id(i) for i in range(200)]
    county_roster(hub_env, ids, folder)
    code = provision(hub_env)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    hub = start_hub(hub_env, port)
    wait_for_hub(url, hub)
    with Store.open(term / "kiosk.db", term / "template.key") as store:
        ident = register(store, url, code, "soak")
        sync_once(store, attempts=3)  # the village roster
    stats: dict[str, Counter] = {f: Counter() for f in FAULTS}
    reasons: Counter = Counter()  # why syncs failed, by fault
    t0 = time.monotonic()
    cmd = [sys.executable, "-m", "kiosk.soak", "--child", "--folder", str(term)]
    for n in range(rounds):
        fault = rng.choice(FAULTS)
        st = stats[fault]
        st["rounds"] += 1
        proc = subprocess.Popen(cmd + ["--fault", fault, "--seed", str(rng.randrange(1 << 30)),
                                       "--queue", str(rng.randint(1, 30))],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        phase = folder / "phase"
        phase.write_text("starting")
        if fault in ("kill_terminal", "kill_hub"):
            # wait until the child is recording or syncing (drawn), then a random moment more
            target = "syncing" if fault == "kill_hub" or rng.random() < 0.7 else "recording"
            deadline = time.monotonic() + 60
            while phase.read_text() != target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.3))  # a sync of 1-30 records takes a few tenths of a second
            victim = proc if fault == "kill_terminal" else hub
            if victim.poll() is None:
                where = phase.read_text() if proc.poll() is None else "after"
                victim.send_signal(signal.SIGKILL)
                if victim is hub:
                    hub.wait(10)  # reaped now, so the restart below cannot miss it
                st["kills"] += 1
                st["killed_while_" + where] += 1
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            st["child_timeouts"] += 1
        if hub.poll() is not None:  # killed (or died): restart on the same data and port
            hub = start_hub(hub_env, port)
            wait_for_hub(url, hub)
        line = (out or "").strip().splitlines()[-1:] or [""]
        try:
            res = json.loads(line[0])
        except ValueError:
            res = {"sync": "killed" if proc.returncode == -signal.SIGKILL else f"exit {proc.returncode}"}
            if proc.returncode not in (-signal.SIGKILL,):
                st["child_crashes"] += 1
                log(f"round {n}: child exit {proc.returncode}: {(err or '')[-300:]}")
        if res.get("sync") not in ("ok", "killed"):
            reasons[f"{fault}: {res.get('sync')}"] += 1
        st["sync_ok"] += res.get("sync") == "ok"
        st["sync_failed"] += res.get("sync") not in ("ok", "killed")
        st["killed"] += res.get("sync") == "killed"
        st["queued"] += res.get("queued", 0)
        st["queue_refused"] += res.get("queue_refused", 0)
        st["io_errors_injected"] += res.get("injected", 0)
        if (n + 1) % 10 == 0:
            log(f"  {n + 1}/{rounds} rounds, {time.monotonic() - t0:.0f} s")
    # a last clean sync, then reconcile
    with Store.open(term / "kiosk.db", term / "template.key") as store:
        sync_once(store, attempts=4, sleep=lambda s: time.sleep(min(s, 2)))
        sync_once(store, attempts=4, sleep=lambda s: time.sleep(min(s, 2)))  # audit of the last pull
        local = {r["uuid"]: json.loads(r["payload"])["uuid"] for r in store.db.query("SELECT uuid, payload FROM outbox")}
        pending = store.db.execute("SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0]
        audit_local = store.db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    hub.terminate()
    hub.wait(10)
    # county.db is encrypted (SQLCipher): the hub's own `kiosk-county check` reads it
    check = subprocess.run([sys.executable, "-m", "kiosk.county.cli", "check", "--device", ident.device_id, "--json"],
                           env=hub_env, capture_output=True, text=True)
    hub_check = json.loads(check.stdout.strip().splitlines()[-1]) if check.stdout.strip() else {}
    rows = hub_check.get("device", {}).get("certifications", [])
    audit_hub = hub_check.get("device", {}).get("audit", 0)
    hub_uuids = Counter(u for u, _ in rows)
    attempts = Counter(a for _, a in rows)
    totals = {
        "rounds": rounds, "seconds": round(time.monotonic() - t0, 1), "created": len(local),
        "stored_at_hub": len(rows), "lost": len(set(local) - set(hub_uuids)),
        "duplicated": sum(n - 1 for n in hub_uuids.values() if n > 1) + sum(n - 1 for n in attempts.values() if n > 1),
        "unknown_at_hub": len(set(hub_uuids) - set(local)), "pending": pending,
        "audit_local": audit_local, "audit_hub": audit_hub,
        "integrity_terminal": _integrity(term / "kiosk.db"),
        "integrity_hub": hub_check.get("integrity", "check failed: " + check.stderr.strip()[-200:]),
    }
    return {"faults": {f: dict(v) for f, v in stats.items()}, "totals": totals,
            "sync_failures": dict(reasons.most_common())}


def table(res: dict) -> str:
    cols = ["rounds", "kills", "killed_while_recording", "killed_while_syncing", "killed_while_closing", "sync_ok",
            "sync_failed", "queued", "queue_refused", "io_errors_injected"]
    lines = ["| fault | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for f, st in res["faults"].items():
        lines.append(f"| {f} | " + " | ".join(str(st.get(c, 0)) for c in cols) + " |")
    t = res["totals"]
    lines += ["", "| " + " | ".join(t) + " |", "|---" * len(t) + "|", "| " + " | ".join(str(v) for v in t.values()) + " |"]
    if res.get("sync_failures"):
        lines += ["", "Why syncs failed (fault: error): " + "; ".join(f"{k} ×{n}" for k, n in res["sync_failures"].items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kiosk.soak", description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="keep the hub and terminal folders here (default: a temporary folder)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    ap.add_argument("--fault", choices=FAULTS, help=argparse.SUPPRESS)
    ap.add_argument("--queue", type=int, default=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(Path(args.folder), args.fault, args.seed, args.queue)
    with tempfile.TemporaryDirectory(prefix="kiosk-soak-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        res = run(args.rounds, args.seed, folder, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(res, ensure_ascii=False) if args.json else table(res))
    t = res["totals"]
    ok = (t["lost"] == 0 and t["duplicated"] == 0 and t["unknown_at_hub"] == 0 and t["pending"] == 0
          and t["integrity_terminal"] == "ok" and t["integrity_hub"] == "ok")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
