"""How fast the staff status page is with a big roster: `python -m kiosk.county.bench [--residents N]`.

Fills a fresh hub database in a temporary folder with N residents (bulk insert; default
300,000, spread over 300 villages, a third certified in the last year) and 60 days of
certification records, logs in, and times page views over HTTP (in process, no network):
the first page, page 1000 by offset, a "next page" link deep in the list (keyset), one village,
and the JSON summary. Prints one line
per view (median of 5) and the fill time. docs/benchmarks.md quotes its figures.
"""
from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id(n: int) -> str:
    year = 1930 + n % 40
    body = f"{110000 + n // 100000 * 100 + 5:06d}{year}{1 + n // 1000 % 12:02d}{1 + n // 10 % 28:02d}{n % 1000:03d}"
    # uniqueness: region varies by n // 100000; date and sequence by the rest
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


def fill(db, residents: int, records_per_day: int = 500) -> float:
    from sqlalchemy import insert

    from .db import Change, Device, Record, Resident

    t0 = time.perf_counter()
    today = db.clock.today()
    now = db.clock.utc_now()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    n = 0
    while len(rows) < residents:
        rid = _id(n)
        n += 1
        if rid in seen:
            continue
        seen.add(rid)
        i = len(rows)
        certified = (today - timedelta(days=i % 365)).isoformat() if i % 3 == 0 else None
        rows.append({"id_number": rid, "name": f"居民{i}", "village": f"村{i % 300:03d}", "categories": '["pension"]',
                     "county_status": "active", "certified_on": certified, "removed": False, "version": i + 1,
                     "updated_at": now.isoformat(), "benefit_start": None, "data_comparison_on": None})
    with db.engine.begin() as c:
        c.execute(insert(Change), [{"kind": "roster", "key": r["id_number"], "at": "x"} for r in rows])
        for i in range(0, len(rows), 20000):
            c.execute(insert(Resident), rows[i:i + 20000])
        c.execute(insert(Device), [{"id": f"dev-{v:03d}", "name": f"村{v:03d}服务点", "village": f"村{v:03d}",
                                               "sign_pub": f"k{v}", "box_pub": "x", "status": "active",
                                               "registered_at": now.isoformat()} for v in range(300)])
        recs = []
        for d in range(60):
            day = (today - timedelta(days=d)).isoformat()
            for k in range(records_per_day):
                v = k % 300
                recs.append({"device_id": f"dev-{v:03d}", "uuid": f"00000000-0000-4000-8000-{d:04d}{k:08d}",
                             "kind": "certification", "seq": None, "resident_id": rows[(d * records_per_day + k)
                                                                                      % len(rows)]["id_number"],
                             "village": f"村{v:03d}", "category": "pension", "verdict": "pass" if k % 5 else "fail",
                             "occurred_at": day + "T02:00:00+00:00", "occurred_day": day, "received_at": now.isoformat(),
                             "via": "network", "payload": "{}", "clock_suspect": False})
        c.execute(insert(Record), recs)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kiosk.county.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=300_000)
    ap.add_argument("--keep", help="folder for the database (default: a temporary one, removed)")
    args = ap.parse_args(argv)
    from fastapi.testclient import TestClient

    from . import open_hub
    from .server import create_app

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        db = open_hub(f"sqlite:///{folder / 'county.db'}", folder / "hub.key")
        took = fill(db, args.residents)
        print(f"filled {args.residents:,} residents, 300 devices, 30,000 records in {took:.1f} s")
        db.add_user("bench", "viewer", "bench-password-1")
        c = TestClient(create_app(db))
        found = re.search(r'name=csrf value="([^"]+)"', c.get("/login").text)
        assert found is not None, "no login form"
        csrf = found.group(1)
        assert c.post("/login", data={"csrf": csrf, "user": "bench", "password": "bench-password-1"},
                      follow_redirects=False).status_code == 303
        deep = _id(250_000)
        for label, path in (("status page, first page", "/"), ("status page, page 1000", "/?page=1000"),
                            ("status page, next page deep", f"/?after={deep}"),
                            ("status page, one village", "/?village=%E6%9D%91123"), ("JSON summary", "/api/summary")):
            times = []
            for _ in range(5):
                t = time.perf_counter()
                r = c.get(path)
                times.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text[:200]
            print(f"{label:28s} {statistics.median(times) * 1000:7.0f} ms  (median of 5, {len(r.content) // 1024} KB)")
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
