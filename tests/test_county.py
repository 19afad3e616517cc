"""The county hub: roster loading (CSV/XLSX as county staff keep it), the status page, the
OpenAPI document, and the walkthrough of docs/county-sync.md: one hub (`kiosk-county serve`), two terminals,
roster and certifications exchanged over the network and by USB bundle, counts matching."""
from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import numpy as np
import pytest

from kiosk.cli import main
from kiosk.county.cli import main as county_main
from kiosk.county.roster import load_roster
from test_sync_support import hub  # noqa: F401  (fixture)
from test_sync_support import fill, people, staff_client

ASTRONAUT = Path(__file__).resolve().parents[1] / "assets" / "demo" / "astronaut.png"


ROWS = people(6)
CSV_TEXT = (
    "序号,身份证号,姓名,村,认证类别,待遇开始日期,大数据比对日期,状态,联系电话\n"
    f"1,{ROWS[0]},张三,东村,养老,2010-01-01,,正常,13800000000\n"
    f"2,{ROWS[1].lower()},李四,东村,养老、工伤,2012/3/1,2026-02-01,正常,\n"
    f"3,{ROWS[2][:-1]}0,王五,东村,养老,,,正常,\n"          # bad check digit
    f"4,{ROWS[3]},,东村,养老,,,正常,\n"                     # no name
    f"5,{ROWS[4]},赵六,西村,退休金,,,正常,\n"               # unknown category
    f"6,{ROWS[5]},孙七,西村,工伤遗属,,,身故,\n"
    f"7,{ROWS[0]},张三,东村,养老,,,正常,\n"                 # duplicate
    f"8,{ROWS[4]},赵六,西村,养老,20150101,,暂停,\n"
    f"9,{ROWS[3]},周八,东村,养老,2015-13-01,,正常,\n"       # bad date
)


def test_roster_csv_good_rows_load_bad_rows_reported(tmp_path):
    p = tmp_path / "名册.csv"
    p.write_text(CSV_TEXT, encoding="utf-8-sig")
    load = load_roster(p)
    assert [r["name"] for r in load.rows] == ["张三", "李四", "孙七", "赵六"]
    li = load.rows[1]
    assert li["id_number"] == ROWS[1].upper() and li["categories"] == ["pension", "work_injury"]
    assert li["benefit_start"] == "2012-03-01" and li["data_comparison_on"] == "2026-02-01"
    assert load.rows[2]["county_status"] == "deceased" and load.rows[3]["county_status"] == "suspended"
    assert len(load.errors) == 5
    assert load.errors[0].startswith("第4行") and "校验位" in load.errors[0]
    assert load.errors[1].startswith("第5行") and "姓名" in load.errors[1]
    assert "退休金" in load.errors[2] and "重复" in load.errors[3] and "2015-13-01" in load.errors[4]
    assert any("序号" in n for n in load.notes)
    assert load.rows[0]["phone"] == "13800000000" and load.rows[1]["phone"] is None  # 联系电话: for home visits
    # GB18030 as saved by an older Excel
    p2 = tmp_path / "gbk.csv"
    p2.write_bytes(CSV_TEXT.encode("gb18030"))
    assert [r["name"] for r in load_roster(p2).rows] == ["张三", "李四", "孙七", "赵六"]
    # A file without the ID column is refused whole, with the header to use
    p3 = tmp_path / "bad.csv"
    p3.write_text("姓名,村\n张三,东村\n", encoding="utf-8")
    load3 = load_roster(p3)
    assert load3.rows == [] and "身份证号" in load3.errors[0]


def test_roster_xlsx_and_import_twice(tmp_path, hub):
    import openpyxl
    from datetime import date

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["身份证号", "姓名", "村(社区)", "认证类别", "待遇开始日期", "状态"])
    ws.append([ROWS[0], "张三", "东村", "养老", date(2010, 1, 1), "正常"])
    ws.append([ROWS[1], "李四", "东村", "工伤", "2012-03-01", "暂停"])
    ws.append(["12345", "坏号", "东村", "养老", None, "正常"])
    p = tmp_path / "名册.xlsx"
    wb.save(p)
    load = load_roster(p)
    assert [r["benefit_start"] for r in load.rows] == ["2010-01-01", "2012-03-01"]
    assert len(load.errors) == 1 and load.errors[0].startswith("第4行")
    assert hub.db.upsert_residents(load.rows) == (2, 0)
    assert hub.db.upsert_residents(load.rows) == (0, 2)  # nothing changed: no new versions
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"not a zip")
    assert "Excel" in load_roster(bad).errors[0]


def test_status_page_and_openapi(hub, tmp_path):
    from kiosk.store import Store
    from kiosk.sync import register, sync_once

    ids = people(4)
    hub.db.upsert_residents([{"id_number": r, "name": f"居民{i}", "village": "东村"} for i, r in enumerate(ids)])
    hub.db.set_setting("county_name", "测试县社保局")
    with Store.open(tmp_path / "k.db", tmp_path / "k.key") as store:
        ident = register(store, hub.url, hub.db.provision("东村"), "东村服务点")
        fill(store, ids[:2])
        sync_once(store)
    assert httpx.get(hub.url + "/", trust_env=False).status_code == 303  # nothing without a login
    c = staff_client(hub)
    page = c.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    html = page.text
    assert "测试县社保局" in html and "各村每日认证" in html and ident.device_id in html and "东村服务点" in html
    assert "逾期未认证（共 2 人）" in html
    assert ids[2] not in html and ids[2][:6] + "********" + ids[2][-4:] in html  # ID numbers masked
    assert httpx.get(hub.url + "/openapi.json", trust_env=False).status_code == 401
    spec = c.get("/openapi.json").json()
    assert {"/v1/records", "/v1/roster", "/v1/templates", "/v1/devices/register"} <= set(spec["paths"])
    assert "PushRequest" in json.dumps(spec)


@pytest.mark.slow
def test_readme_walkthrough_two_terminals_one_hub(tmp_path, monkeypatch, capsys):
    """The walkthrough "one hub, two terminals" of docs/county-sync.md, command for command."""
    county, a, b, usb = (tmp_path / n for n in ("county", "a", "b", "usb"))

    def kiosk(home: Path, *argv, entry=main) -> dict | list:
        monkeypatch.setenv("KIOSK_HOME", str(home))
        monkeypatch.setenv("KIOSK_KEY_FILE", str(home / "template.key"))
        capsys.readouterr()
        code = entry(list(argv) + ["--json"])
        out = capsys.readouterr().out.strip().splitlines()
        assert code == 0, out
        objs = [json.loads(line) for line in out]
        return objs[-1] if len(objs) == 1 else objs

    def kiosk_county(home: Path, *argv) -> dict | list:  # `kiosk-county …`: the hub's own entry point
        return kiosk(home, *argv, entry=county_main)

    roster = tmp_path / "名册.csv"
    ids = people(8)
    roster.write_text("身份证号,姓名,村,认证类别,状态\n" + "".join(
        f"{r},居民{i},{'东村' if i < 6 else '西村'},养老,正常\n" for i, r in enumerate(ids)), encoding="utf-8")
    assert kiosk_county(county, "roster", str(roster), "--county", "测试县社保局")["loaded"] == 8
    # The county enrols the first resident (the demo's public-domain portrait stands in for their photo).
    kiosk_county(county, "enrol", ids[0], str(ASTRONAUT))
    code_a = kiosk_county(county, "provision", "--village", "东村")["code"]
    code_b = kiosk_county(county, "provision", "--village", "东村")["code"]
    from kiosk.sync_bench import running_hub

    with running_hub({**os.environ, "KIOSK_HOME": str(county)}) as url:
        dev_a = kiosk(a, "register", "--hub", url, "--code", code_a, "--name", "东村服务点")["device_id"]
        dev_b = kiosk(b, "register", "--hub", url, "--code", code_b, "--name", "上门认证")["device_id"]
        assert kiosk(a, "sync", "--once")["roster_changed"] == 6
        assert kiosk(b, "sync", "--once")["roster_changed"] == 6
        # Terminal A: the enrolled resident certifies for real (the virtual camera does the
        # actions, through the real engine), plus two drill records; then it is online.
        outcome = kiosk(a, "certify-resident", ids[0], "--virtual", "--actions", "blink,turn_left")
        assert (outcome["verdict"], outcome["reason"]) == ("pass", "ok"), outcome
        from kiosk.sync_bench import main as drill
        monkeypatch.setenv("KIOSK_HOME", str(a))
        monkeypatch.setenv("KIOSK_KEY_FILE", str(a / "template.key"))
        drill(["queue", "--count", "2"])
        assert kiosk(a, "sync", "--once")["stored"] == 3
        # Terminal B learns from the county that they are certified.
        kiosk(b, "sync", "--once")
        st = kiosk(b, "status", ids[0])
        assert st["status"] == "certified"
        # Terminal B is offline: two certifications go to the county on a USB stick.
        monkeypatch.setenv("KIOSK_HOME", str(b))
        monkeypatch.setenv("KIOSK_KEY_FILE", str(b / "template.key"))
        drill(["queue", "--count", "2"])
        exported = kiosk(b, "export", "--to", str(usb))
        assert exported["certifications"] == 2
        first = kiosk_county(county, "import", exported["file"])
        assert first["stored"] >= 2 and first["rejected"] == 0
        assert kiosk_county(county, "import", exported["file"])["stored"] == 0
        back = kiosk_county(county, "export", "--device", dev_b, "--to", str(usb))
        res = kiosk(b, "sync", "--bundle", back["file"])
        assert res["acked"] == 2
        devices = {d["device_id"]: d for d in kiosk_county(county, "devices")}
        assert devices[dev_a]["records"] == 3 and devices[dev_b]["records"] == 2
        from kiosk.store import Store
        from kiosk.sync import status

        for home, n in ((a, 3), (b, 2)):
            with Store.open(home / "kiosk.db", home / "template.key") as s:
                assert status(s)["pending"] == 0
                assert s.db.execute("SELECT count(*) FROM attempts").fetchone()[0] == n


def test_county_enrol_from_photos_reaches_the_terminal(tmp_path, monkeypatch, capsys, images_dir, hub):
    """`kiosk-county enrol` encodes photos at the county (the engine runs in the CLI command, not
    in the hub); the terminal receives the template sealed for it and can use it."""
    from kiosk.faces import PhotoEncoder
    from kiosk.store import Store
    from kiosk.sync import register, sync_once

    rid = people(1, start=40)[0]
    hub.db.upsert_residents([{"id_number": rid, "name": "成龙", "village": "东村"}])
    hub_home = tmp_path / "county"  # the Hub fixture's folder: same database and key as the server
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    photos = [str(images_dir / "Jackie_Chan" / "1.jpg"), str(images_dir / "Jackie_Chan" / "2.jpg")]
    capsys.readouterr()
    assert county_main(["enrol", rid, *photos, "--db", hub.db.url, "--hub-key", str(hub_home / "hub.key"),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["templates"] == 2 and rid not in json.dumps(out)
    with Store.open(tmp_path / "k.db", tmp_path / "k.key") as store:
        register(store, hub.url, hub.db.provision("东村"), "t")
        assert sync_once(store).templates_changed == 1
        got = store.templates_for(rid, out["backend"])
    enc = PhotoEncoder()
    try:
        expected = enc.encode_file(photos[0])
    finally:
        enc.close()
    assert len(got) == 2 and np.allclose(got[0], expected, atol=1e-6)
    # Not a photo of a face: a clear message, nothing changed at the hub.
    bad = tmp_path / "blank.png"
    import cv2

    cv2.imwrite(str(bad), np.full((200, 200, 3), 255, np.uint8))
    capsys.readouterr()
    assert county_main(["enrol", rid, str(bad), "--db", hub.db.url, "--hub-key", str(hub_home / "hub.key"),
                 "--json"]) == 2
    err = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert err["error"] == "no_face" and "人脸" in err["message"]
