"""The small HTML status page for county staff (no JavaScript, prints well)."""
from __future__ import annotations

from datetime import datetime
from html import escape

from kiosk.core.clock import default_clock
from kiosk.core.ids import mask_id


def _local(iso: str | None, tz=None) -> str | None:
    """UTC ISO timestamp -> the service area's local time, as staff read clocks."""
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).astimezone(tz or default_clock().tz).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


_mask = mask_id  # one masking rule (kiosk.core.ids)


def render_status_page(county: str, summary: dict, tz=None) -> str:
    def table(headers: list[str], rows: list[list], empty: str) -> str:
        if not rows:
            return f"<p class=empty>{escape(empty)}</p>"
        head = "".join(f"<th>{escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{escape(str(c if c is not None else '—'))}</td>" for c in r) + "</tr>"
                       for r in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    per_day = table(["日期", "村", "认证通过", "未通过"],
                    [[d["day"], d["village"] or "（未分村）", d["pass"], d["fail"]] for d in summary["per_day"][:400]],
                    "还没有收到任何认证记录。")
    devices = table(["设备编号", "名称", "村", "状态", "最近联系", "最近上传", "最近U盘导入"],
                    [[d.id, d.name, d.village, "正常" if d.status == "active" else "已停用", _local(d.last_seen_at, tz),
                      _local(d.last_push_at, tz), _local(d.last_bundle_at, tz)] for d in summary["devices"]],
                    "还没有登记任何设备。用 kiosk-county provision 生成开通码。")
    overdue = table(["身份证号", "姓名", "村", "最近认证", "状态"],
                    [[_mask(o["id_number"]), o["name"], o["village"], o["last"] or "从未认证",
                      {"active": "正常", "suspended": "已暂停"}.get(o["status"], o["status"])]
                     for o in summary["overdue"][:2000]],
                    "没有超期未认证的人员。")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(county)} 认证汇总</title>
<style>body{{font-family:sans-serif;margin:2em;font-size:16px}}table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border:1px solid #999;padding:4px 10px;text-align:left}}th{{background:#eee}}.empty{{color:#666}}</style></head>
<body><h1>{escape(county)} 村口认证汇总</h1>
<h2>各村每日认证</h2>{per_day}
<h2>终端设备</h2>{devices}
<h2>超过12个月未认证（共 {len(summary['overdue'])} 人）</h2>{overdue}
</body></html>"""
