"""County sync benchmark and drill helper.

    uv run python -m kiosk.sync_bench [--count 10000] [--batch 500] [--json]
        Starts a real hub (`kiosk-county serve`, its own process, SQLite, 127.0.0.1, free port),
        registers a fresh terminal in a temporary folder, queues COUNT certifications and times
        how long `sync` takes until the hub has acknowledged every one. Target: 10,000 in <= 30 s.

    uv run python -m kiosk.sync_bench queue --count N [--village 东村]
        For a drill on throwaway KIOSK_HOME folders only (see docs/county-sync.md, the walkthrough): records N
        drill certifications (operator "演练") for residents already on this terminal's roster,
        as the certification service would after a real session. Never use it on a live terminal.
"""
from __future__ import annotations

import argparse
from contextlib import contextmanager
from typing import Iterator
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from kiosk.core.ids import check_digit
from kiosk.texts import text


def _id(i: int) -> str:
    body = f"110105{1940 + i // 10000 % 40}{(i // 1000) % 9 + 1:02d}{(i // 100) % 10 + 10:02d}{i % 100:03d}"
    return body + check_digit(body)


def queue_drill(store, count: int, village: str | None = None, operator: str | None = None) -> int:
    operator = operator or text("drill_operator")
    residents = [r for r in store.list_residents(village=village) if r.county_status != "deceased"]
    if not residents:
        raise SystemExit(text("drill_no_roster"))
    now = store.clock.utc_now()  # the one clock (kiosk.core.clock)
    with store.transaction():
        for i in range(count):
            r = residents[i % len(residents)]
            at = now - timedelta(seconds=30 * (count - i))
            store.record_attempt(resident_id=r.id_number, category=(r.categories or ("pension",))[0], mode="self",
                                 verdict="pass", started_at=at, finished_at=at + timedelta(seconds=9),
                                 message=text("result_ok"), scores={"distance": 0.41, "threshold": 0.47},
                                 liveness={"actions": ["blink", "turn_left"], "passed": True}, operator=operator)
    return count


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_hub(env: dict, port: int) -> subprocess.Popen:
    """`kiosk-county serve` on 127.0.0.1:port in its own process (plain http on loopback)."""
    return subprocess.Popen([sys.executable, "-m", "kiosk.county.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for_hub(url: str, hub: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(url + "/health", timeout=1, trust_env=False)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or hub.poll() is not None:
                raise RuntimeError("hub did not start: " + (hub.stderr.read().decode() if hub.stderr and hub.poll() is not None else "")) from None
            time.sleep(0.1)


@contextmanager
def running_hub(env: dict, timeout_s: float = 60.0) -> Iterator[str]:
    """`kiosk-county serve` in its own process on a free loopback port; yields its URL."""
    port = _free_port()
    hub = start_hub(env, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_hub(url, hub, timeout_s)
        yield url
    finally:
        hub.terminate()
        hub.wait(10)


def county_roster(env: dict, ids: list[str], folder: Path, village: str | None = None) -> None:
    """Put these residents on the hub's roster (`kiosk-county roster`, its English column names): the
    hub refuses certifications of people not on the signing device's village roster."""
    village = village or text("drill_village")
    csv = folder / "roster.csv"
    csv.write_text("id_number,name,village,category\n" + "".join(
        f"{rid},{text('drill_resident', n=i)},{village},pension\n" for i, rid in enumerate(ids)), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "kiosk.county.cli", "roster", str(csv)], env=env, check=True,
                   capture_output=True)


def provision(env: dict, village: str | None = "") -> str:
    """A registration code of the hub (for `village`; "" the drill's village, None any)."""
    village = text("drill_village") if village == "" else village
    cmd = [sys.executable, "-m", "kiosk.county.cli", "provision", "--json"] + (["--village", village] if village else [])
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["code"]


def bench(count: int, batch: int) -> dict:
    from kiosk.store import Store
    from kiosk.sync import register, sync_once
    from kiosk.sync.engine import SyncState

    with tempfile.TemporaryDirectory(prefix="kiosk-sync-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "KIOSK_HOME": str(tmp / "hub-home"), "KIOSK_HUB_KEY": str(tmp / "hub-key" / "hub.key")}
        ids = [_id(i) for i in range(min(count, 5000))]
        county_roster(env, ids, tmp)
        code = provision(env)
        with running_hub(env) as url:
            with Store.open(tmp / "kiosk.db", tmp / "template.key") as store:
                register(store, url, code, "bench")
                with store.transaction():
                    for i, rid in enumerate(ids):
                        store.upsert_resident(rid, text("drill_resident", n=i), village=text("drill_village"))
                queue_drill(store, count, operator="bench")
                t0 = time.perf_counter()
                report = sync_once(store, batch=batch, timeout=60)
                elapsed = time.perf_counter() - t0
                left = SyncState(store).counts()["pending"]
    return {"certifications": count, "stored": report.stored, "audit_entries": report.audit_sent,
            "pending_after": left, "seconds": round(elapsed, 2), "per_second": round(count / elapsed, 1),
            "batch": batch, "target_seconds": 30.0, "cpus": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kiosk.sync_bench")
    p.add_argument("mode", nargs="?", choices=["bench", "queue"], default="bench")
    p.add_argument("--count", type=int)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--village")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.mode == "queue":
        from kiosk.config import Settings, home_dir, key_file
        from kiosk.store import Store

        with Store.open(home_dir() / "kiosk.db", key_file(), clock=Settings.load().clock()) as store:
            n = queue_drill(store, args.count or 3, args.village)
        print(text("drill_queued", n=n), flush=True)
        return 0
    res = bench(args.count or 10_000, args.batch)
    if args.json:
        print(json.dumps(res))
    else:
        print(f"{res['certifications']} certifications (+{res['audit_entries']} audit entries) reached the hub in "
              f"{res['seconds']} s ({res['per_second']}/s, batch {res['batch']}, {res['cpus']} CPUs); "
              f"target <= {res['target_seconds']} s; left pending: {res['pending_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
