"""One cycle rule, the same on the hub and the terminal (kiosk.core.cycle; kiosk.county.cycle).

One shared fixture: residents of every birth month (29 February and 31 December among them), with
last certifications, 大数据比对 dates, benefit starts and county statuses around period
boundaries and year ends, on a real (SQLCipher) hub database. The terminal gets them as it does
from the county — the hub's roster pages and cycle policy applied by kiosk.store.syncstate — and
judges with the rule in force (kiosk.service.cycle_rule). For several rules (the default with no
county policy, birthday cycles with and without grace days, fixed windows incl. one across the
year end and one opening on 29 February) and several days (Clock.fixed, Asia/Shanghai), the
terminal's due list (kiosk.due.due_list, what `kiosk due` prints) and the hub's /due list, status
page and figures agree on who is suspended, overdue, never certified and due soon, and on the dates.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from kiosk.config import Settings
from kiosk.core import cycle as core
from kiosk.core.clock import Clock
from kiosk.core.ids import check_digit, mask_id
from kiosk.county import figures as hubfig
from kiosk.county import open_hub
from kiosk.county.cycle import certified_condition, count_overdue, hub_rule, judge, overdue_condition, status_kind_conditions
from kiosk.county.db import Device, Resident
from test_sync_support import _hub_url

RULES = [
    None,  # no county policy: the hub's default must be the terminal's
    {"type": "birthday", "grace_days": 0},
    {"type": "birthday", "grace_days": 10},
    {"type": "fixed_window", "start": [2, 10], "end": [3, 25], "grace_days": 5},  # Hebei Laiyuan
    {"type": "fixed_window", "start": [12, 1], "end": [1, 31], "grace_days": 0},  # across the year end
    {"type": "fixed_window", "start": [2, 29], "end": [3, 31], "grace_days": 3},  # opens 28/2 in common years
]
DAYS = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 2, 10), date(2026, 3, 30), date(2026, 3, 31),
        date(2026, 4, 1), date(2026, 7, 1), date(2026, 12, 1), date(2028, 2, 28), date(2028, 2, 29),
        date(2028, 3, 1), date(2028, 3, 4)]
BIRTHS = [date(1948, 2, 29), date(1952, 2, 29), date(1950, 1, 1), date(1950, 12, 31), date(1951, 3, 1),
          date(1949, 3, 31), date(1947, 11, 30)] + [date(1940 + m, m, 15) for m in range(1, 13)]


def _boundaries() -> list[date]:
    out = []
    for y in range(2023, 2029):
        for m, d in ((1, 1), (1, 31), (2, 9), (2, 10), (2, 28), (2, 29), (3, 1), (3, 25), (3, 30), (3, 31), (4, 1),
                     (6, 30), (7, 1), (11, 30), (12, 1), (12, 31)):
            if m == 2 and d == 29 and y % 4:
                continue
            out.append(date(y, m, d))
    return out


WHEN = _boundaries()


def resident_rows(n: int, seed: int) -> list[dict]:
    """`n` residents (distinct masked IDs: the sequence number differs) with dates around boundaries."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        born = rnd.choice(BIRTHS)
        first17 = f"110105{born:%Y%m%d}{i:03d}"
        rid = first17 + check_digit(first17)
        pick = rnd.random()
        rows.append({
            "id_number": rid, "name": f"居民{i}", "village": ("东村", "西村", "南村")[i % 3], "categories": ["pension"],
            "certified_on": None if pick < 0.2 else rnd.choice(WHEN).isoformat(),
            "data_comparison_on": rnd.choice(WHEN).isoformat() if rnd.random() < 0.25 else None,
            "benefit_start": rnd.choice(WHEN).isoformat() if rnd.random() < 0.3 else None,
            "county_status": rnd.choice(["active"] * 8 + ["suspended", "deceased"]),
        })
    return rows


def load_hub(hub, rows: list[dict]) -> None:
    """The roster as the county loads it; certified_on as the hub keeps it (latest pass or approved fallback)."""
    hub.upsert_residents([{k: v for k, v in r.items() if k != "certified_on"} for r in rows])
    with hub.Session.begin() as s:
        for r in rows:
            if r["certified_on"]:
                s.execute(update(Resident).where(Resident.id_number == r["id_number"])
                          .values(certified_on=r["certified_on"]))


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """SQLite (SQLCipher); with KIOSK_TEST_COUNTY_DB=postgresql+psycopg://… PostgreSQL (test_sync_support)."""
    folder = tmp_path_factory.mktemp("county")
    hub = open_hub(_hub_url(folder), folder / "hub.key", clock=Clock.fixed(DAYS[0]))
    rows = resident_rows(360, seed=54)
    load_hub(hub, rows)
    yield hub, rows
    hub.close()


def pull(hub, store) -> None:
    """What `kiosk sync` does with the county's roster pages (network or bundle): roster and policy."""
    from kiosk.store.syncstate import SyncState

    state, since = SyncState(store), 0
    everyone = Device(id="dev-test", village=None)
    while True:
        page = hub.roster_page(everyone, since)
        assert not state.apply_roster([e.model_dump() for e in page.residents])[1]
        state.apply_policy(page.policy)
        since = page.cursor
        if not page.more:
            break


def terminal_due(store, rule, today: date) -> dict[str, tuple[str, str | None]]:
    from kiosk.due import due_list

    due = due_list(store, Clock.fixed(today), rule, days=30)
    return {mask_id(e.id_number): (e.urgency, (e.suspended_since or e.due_by or date.max).isoformat())
            for e in due.entries}


def hub_due(hub, today: date) -> dict[str, tuple[str, str | None]]:
    out = {}
    for village in hubfig.villages(hub):
        for r in hubfig.due_list(hub, village, days=30, today=today)["residents"]:
            assert r["id"] not in out
            out[r["id"]] = (r["urgency"], r["date"] or date.max.isoformat())
    return out


@pytest.mark.slow
def test_terminal_and_hub_agree_on_who_must_certify(county, tmp_path):
    from kiosk.service import cycle_rule
    from kiosk.stats import figures as terminal_figures
    from kiosk.store import Store

    hub, rows = county
    store = Store.open(tmp_path / "kiosk.db", tmp_path / "template.key", clock=Clock.fixed(DAYS[0]))
    try:
        seen_kinds: set[str] = set()
        for policy in RULES:  # None first: a terminal that never had a county rule
            hub.set_setting("cycle_policy", policy)
            pull(hub, store)
            rule = cycle_rule(store, Settings())
            assert rule == hub_rule(hub) == core.rule_from_config(policy or core.DEFAULT_POLICY)
            for today in DAYS[::2] if policy else DAYS:
                term, at_hub = terminal_due(store, rule, today), hub_due(hub, today)
                assert at_hub == term, (policy, today, _diff(term, at_hub))
                seen_kinds |= {u for u, _ in term.values()}

                status = hub.summary(today=today, per_page=len(rows))
                stopped = {k for k, (u, _) in term.items() if u in ("suspended", "overdue")}
                assert status["overdue_total"] == len(stopped), (policy, today)
                assert {mask_id(o["id_number"]): (o["urgency"]) for o in status["overdue"]} == \
                    {k: term[k][0] for k in stopped}

                f_term = terminal_figures(store, Clock.fixed(today), rule, start=today, end=today)
                f_hub = hubfig.figures(hub, None, today, today)
                keys = ("village", "residents", "must_certify", "certified", "data_comparison", "deceased", "rate")
                assert [{k: v[k] for k in keys} for v in f_hub["villages"]] == \
                    [{k: v[k] for k in keys} for v in f_term.villages], (policy, today)
        assert seen_kinds == set(core.URGENCIES)  # the fixture reaches every kind of list entry
    finally:
        store.close()
        hub.set_setting("cycle_policy", None)


def _diff(a: dict, b: dict) -> dict:
    return {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}


@pytest.mark.parametrize("policy", RULES[1:])
def test_the_hubs_sql_is_the_rule_for_every_resident(county, policy):
    """The status page's count and the figures are SQL over the whole roster; they must say what
    kiosk.core.cycle says for each resident, on every day of the fixture."""
    hub, rows = county
    rule = core.rule_from_config(policy)
    for today in DAYS:
        with hub.Session() as s:
            base = select(Resident.id_number).where(Resident.removed.is_(False), Resident.county_status != "deceased")
            lapsed = set(s.scalars(base.where(overdue_condition(rule, today))))
            alive = (Resident.removed.is_(False), Resident.county_status != "deceased")
            assert count_overdue(s, rule, today, *alive) == len(lapsed)  # the months counted apart
            done = set(s.scalars(base.where(certified_condition(rule, today))))
            person, comparison = status_kind_conditions(rule, today)
            by_person = set(s.scalars(base.where(person)))
            by_comparison = set(s.scalars(base.where(comparison)))
            assert s.scalar(select(func.count()).select_from(Resident).where(Resident.birth_month.is_(None))) == 0
        for r in rows:
            if r["county_status"] == "deceased":
                continue
            j = judge(rule, r["id_number"], today, certified_on=r["certified_on"],
                      data_comparison_on=r["data_comparison_on"], benefit_start=r["benefit_start"],
                      county_status=r["county_status"])
            rid, kind = r["id_number"], j.status.kind
            assert (rid in lapsed) == (j.urgency in ("suspended", "overdue")), (policy, today, r, j)
            assert (rid in done) == (kind in ("certified", "data_comparison")), (policy, today, r, j)
            # the figures, as kiosk.stats counts a day: a certification dated later is not known on it
            known = r["certified_on"] if r["certified_on"] and r["certified_on"] <= today.isoformat() else None
            kind = judge(rule, rid, today, certified_on=known, data_comparison_on=r["data_comparison_on"],
                         benefit_start=r["benefit_start"], county_status=r["county_status"]).status.kind
            assert (rid in by_person) == (kind == "certified"), (policy, today, r, j)
            assert (rid in by_comparison) == (kind == "data_comparison"), (policy, today, r, j)


def test_judge_is_the_terminals_status_and_urgency():
    """The hub's one-resident judgement is kiosk.core.cycle's, e.g. a 29 February birthday."""
    from kiosk.policy import BirthdayCycle, certification_status

    rid = "110105" + "19480229" + "001"
    rid += check_digit(rid)
    rule = BirthdayCycle(grace_days=10)
    today = date(2027, 3, 5)  # the period from 2026-02-01 ended 2027-01-31; deadline 2027-02-10
    j = judge(rule, rid, today, certified_on="2025-02-28", data_comparison_on=None, benefit_start=None,
              county_status="active")
    st = certification_status(rule, date(1948, 2, 29), today, last_certified=date(2025, 2, 28))
    assert (j.status.kind, j.status.suspended_since) == (st.kind, st.suspended_since) == ("overdue", date(2027, 3, 1))
    assert j.urgency == "suspended" and j.last == date(2025, 2, 28)
    soon = judge(rule, rid, date(2027, 2, 5), certified_on="2025-02-28", data_comparison_on=None,
                 benefit_start=None, county_status="active")
    assert soon.urgency == "due" and soon.status.due_by == date(2027, 2, 10)
    assert judge(rule, rid, today - timedelta(days=400), certified_on=None, data_comparison_on=None,
                 benefit_start="2026-06-01", county_status="active").urgency == "never_certified"


def test_an_older_hub_database_gets_the_birth_month(tmp_path):
    """A county.db from before the cycle rule was judged in SQL: the column is added and filled from
    the ID numbers and the old rolling-12-month index dropped, in place (SQLite or PostgreSQL)."""
    from sqlalchemy import inspect, text

    rows = resident_rows(30, seed=7)
    url = _hub_url(tmp_path)
    hub = open_hub(url, tmp_path / "hub.key", clock=Clock.fixed(DAYS[0]))
    load_hub(hub, rows)
    with hub.engine.begin() as c:  # as the hub left it before
        c.execute(text("DROP INDEX ix_residents_cycle"))
        c.execute(text("ALTER TABLE residents DROP COLUMN birth_month"))
        c.execute(text("CREATE INDEX ix_residents_overdue ON residents (certified_on, data_comparison_on, removed,"
                       " county_status)"))
    hub.close()
    hub = open_hub(url, tmp_path / "hub.key", clock=Clock.fixed(DAYS[0]))
    try:
        with hub.Session() as s:
            months = dict(s.execute(select(Resident.id_number, Resident.birth_month)).all())
        assert months == {r["id_number"]: int(r["id_number"][10:12]) for r in rows}
        indexes = {ix["name"] for ix in inspect(hub.engine).get_indexes("residents")}
        assert "ix_residents_cycle" in indexes and "ix_residents_overdue" not in indexes
        hub.set_setting("cycle_policy", {"type": "birthday", "grace_days": 10})
        today = date(2026, 3, 31)
        expected = sum(1 for r in rows if r["county_status"] != "deceased" and judge(
            hub_rule(hub), r["id_number"], today, certified_on=r["certified_on"],
            data_comparison_on=r["data_comparison_on"], benefit_start=r["benefit_start"],
            county_status=r["county_status"]).urgency in ("suspended", "overdue"))
        assert hub.summary(today=today)["overdue_total"] == expected > 0
    finally:
        hub.close()


def test_the_county_sets_its_rule_for_the_hub_and_the_terminals(tmp_path, capsys):
    """`kiosk-county setting cycle_policy [JSON]`: shown (the default when unset), checked, stored once;
    the hub judges by it and sends the same dict down with the roster."""
    from kiosk.county.cli import main as county_main

    url, key = f"sqlite:///{tmp_path / 'county.db'}", tmp_path / "hub.key"
    args = ["--db", url, "--hub-key", str(key)]
    assert county_main(["setting", "cycle_policy", *args]) == 0
    out = capsys.readouterr().out
    assert '{"type": "birthday", "grace_days": 0}（默认）' in out and "按生日月认证" in out
    laiyuan = '{"type": "fixed_window", "start": [2, 10], "end": [3, 25], "grace_days": 5}'
    assert county_main(["setting", "cycle_policy", laiyuan, *args]) == 0
    assert "每年 2月10日至3月25日认证一次，截止后宽限 5 天" in capsys.readouterr().out
    for bad in ('{"type": "fixed_window", "start": [2, 30], "end": [3, 25]}', '{"type": "weekly"}', "birthday"):
        assert county_main(["setting", "cycle_policy", bad, *args]) == 2
        said = capsys.readouterr()
        assert "认证周期规则写得不对" in said.out + said.err
    hub = open_hub(url, key)
    try:
        assert hub_rule(hub) == core.FixedWindow(start=(2, 10), end=(3, 25), grace_days=5)
        page = hub.roster_page(Device(id="dev-test", village=None), 0)
        assert page.policy == {"type": "fixed_window", "start": [2, 10], "end": [3, 25], "grace_days": 5}
        assert any(a.action == "setting_cycle_policy" for a in hub.staff_audit())
    finally:
        hub.close()
