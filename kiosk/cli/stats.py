"""`kiosk stats [--village V] [--from D] [--to D] [--json | --csv FILE | --xlsx FILE]`: the figures
(kiosk.stats): 认证率 per village and per day, tries per pass, failure reasons, fallbacks and their
review outcome, time to certify. Counts only: no names, no ID numbers.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from kiosk.cli.common import CliError, _emit, _open_store, clock
from kiosk.texts import text


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise CliError("bad_date", text("stats_bad_date", value=value)) from e


def cmd_stats(args) -> int:
    from kiosk.config import Settings
    from kiosk.service import cycle_rule
    from kiosk.stats import figures, write_csv, write_xlsx

    if sum(bool(x) for x in (args.json, args.csv, args.xlsx)) > 1:
        raise CliError("usage", text("cli_stats_one_format"))
    clk = clock(args)
    start, end = _day(args.start), _day(args.end)
    with _open_store(args, clk) as store:
        f = figures(store, clk, cycle_rule(store, Settings.load()), village=args.village, start=start, end=end)
    if args.csv:
        write_csv(f, Path(args.csv))
        print(text("stats_written", path=args.csv), flush=True)
        return 0
    if args.xlsx:
        write_xlsx(f, Path(args.xlsx))
        print(text("stats_written", path=args.xlsx), flush=True)
        return 0
    if args.json:
        _emit(f.to_json(), True)
        return 0
    print(summary(f), flush=True)
    from kiosk.stats import tables

    for title, header, rows in tables(f):
        print(f"\n{title}\n" + "\t".join(header), flush=True)
        for r in rows:
            print("\t".join("" if c is None else str(c) for c in r), flush=True)
    return 0


def summary(f) -> str:
    t = f.totals
    none = text("stats_none")
    return text("stats_summary", village=f.village or text("due_all_villages"), start=f.start, end=f.end,
                must=t["must_certify"], certified=t["certified"],
                rate=none if t["rate"] is None else f"{100 * t['rate']:.1f}%", attempts=t["attempts"],
                passes=t["passes"], tries=f.tries_per_pass["mean"] or none,
                median=f.time_to_certify["median_s"] or none)


def add_commands(sub) -> None:
    p = sub.add_parser("stats", help=text("cli_help_stats"))
    p.add_argument("--village", help=text("cli_help_stats_village"))
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help=text("cli_help_stats_from"))
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help=text("cli_help_stats_to"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--csv", metavar="FILE", help=text("cli_help_csv"))
    p.add_argument("--xlsx", metavar="FILE", help=text("cli_help_stats_xlsx"))
    p.add_argument("--today", help=text("cli_help_today"))
    p.add_argument("--db", help=text("cli_help_db"))
    p.add_argument("--key", help=text("cli_help_key"))
    p.set_defaults(func=cmd_stats)
