"""The small HTML pages for county staff (no JavaScript, prints well): status, login, clock
review, staff audit. Every value is escaped; every form carries the session's CSRF token."""
from __future__ import annotations

from datetime import datetime
from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

from kiosk.core.clock import default_clock
from kiosk.core.ids import mask_id
from kiosk.county.texts import text
from kiosk.core.messages import message

STYLE = """body{font-family:sans-serif;margin:2em;font-size:16px}table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #999;padding:4px 10px;text-align:left}th{background:#eee}.empty{color:#666}
nav{margin-bottom:1em}nav a,nav form{margin-right:1em;display:inline}.warn{color:#a00}"""


def _local(iso: str | None, tz=None) -> str | None:
    """UTC ISO timestamp -> the service area's local time, as staff read clocks."""
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).astimezone(tz or default_clock().tz).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


_mask = mask_id  # one masking rule (kiosk.core.ids)


def _table(headers: list[str], rows: list[list], empty: str) -> str:
    if not rows:
        return f"<p class=empty>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if isinstance(c, _Raw) else escape(str(c if c is not None else '—'))}</td>"
                                    for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Raw(str):
    """Already-escaped HTML (a form in a table cell)."""


def _hidden(csrf: str) -> str:
    return f'<input type=hidden name=csrf value="{escape(csrf)}">'


def layout(title: str, body: str, user: str | None = None, role: str | None = None, csrf: str = "") -> str:
    nav = ""
    if user:
        links = ['<a href="/">汇总</a>', '<a href="/due">提醒名单</a>', '<a href="/figures">认证统计</a>',
                 '<a href="/review">时间可疑记录</a>']
        if role in ("operator", "admin"):
            links.append('<a href="/fallbacks">不刷脸认证审核</a>')
            links.append('<a href="/enrolments">终端建模记录</a>')
        links.append('<a href="/receipt">核验回执</a>')
        if role == "admin":
            links.append('<a href="/audit">操作记录</a>')
        nav = (f"<nav>{''.join(links)} <span>{escape(user)}（{escape(role or '')}）</span> "
               f"<form method=post action=/logout>{_hidden(csrf)}<button>退出登录</button></form></nav>")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{STYLE}</style></head>
<body>{nav}{body}</body></html>"""


def render_login(county: str, csrf: str, error: str = "", next_url: str = "/") -> str:
    err = f"<p class=warn>{escape(error)}</p>" if error else ""
    body = f"""<h1>{escape(county)} 村口认证汇总 · 登录</h1>{err}
<form method=post action=/login>{_hidden(csrf)}<input type=hidden name=next value="{escape(next_url)}">
<p><label>用户名 <input name=user autocomplete=username required></label></p>
<p><label>密码 <input name=password type=password autocomplete=current-password required></label></p>
<p><button>登录</button></p></form>
<p class=empty>没有账号？请县社保局信息科在服务器上运行 kiosk-county user add 用户名 --role viewer。</p>"""
    return layout(text("page_login"), body)


def render_status_page(county: str, summary: dict, tz=None, user: str | None = None, role: str | None = None,
                       csrf: str = "") -> str:
    per_day = _table([text("word_date"), text("page_col_village"), text("page_col_passed"), text("page_col_failed")],
                     [[d["day"], d["village"] or text("page_no_village"), d["pass"], d["fail"]] for d in summary["per_day"][:400]],
                     text("page_no_records_lately"))
    gaps = summary.get("gaps", {})

    def gap_text(device_id: str) -> str:
        g = gaps.get(device_id)
        if not g or not g["missing"]:
            return text("page_no_gaps")
        ranges = message("protocol_list_separator").join(f"{a}-{b}" if a != b else str(a) for a, b in g["ranges"][:5])
        return text("page_gaps", missing=g['missing'], ranges=ranges)

    devices = _table([text("page_col_device_id"), text("page_col_device_name"), text("page_col_village"), text("page_col_status"), text("page_col_last_seen"), text("page_col_last_push"), text("page_col_last_bundle"), text("page_col_clock_offset"), text("page_col_sequence")],
                     [[d.id, d.name, d.village, text("word_active") if d.status == "active" else text("word_disabled"), _local(d.last_seen_at, tz),
                       _local(d.last_push_at, tz), _local(d.last_bundle_at, tz),
                       None if d.clock_offset_s is None else text("page_hours", hours=d.clock_offset_s / 3600),
                       gap_text(d.id)] for d in summary["devices"]],
                     text("page_no_devices"))
    overdue = _table([text("word_id_number"), text("word_name"), text("page_col_village"), text("page_col_last_certified"), text("page_col_situation")],
                     [[_mask(o["id_number"]), o["name"], o["village"], o["last"] or text("page_never_certified"),
                       _overdue_words(o)] for o in summary["overdue"]],
                     text("page_no_overdue"))
    total, page, per_page = summary.get("overdue_total", len(summary["overdue"])), summary.get("page"), \
        summary.get("per_page", 100)
    pages = max(1, -(-total // per_page))
    q = {"village": summary["village"]} if summary.get("village") else {}
    nav = []
    if page and page > 1:
        nav.append(f'<a href="/?{urlencode({**q, "page": page - 1})}">上一页</a>')
    elif page is None:
        nav.append(f'<a href="/?{urlencode(q)}">回到第一页</a>')
    nav.append(text("page_page_of", page=page, pages=pages) if page else text("page_pages", pages=pages))
    if summary.get("next_after"):
        nav.append(f'<a href="/?{urlencode({**q, "after": summary["next_after"]})}">下一页</a>')
    health_html = _health_table(summary, tz)
    held = summary.get("held", 0)
    held_html = (f'<p class=warn>有 {held} 条记录时间可疑，暂不计入认证状态：<a href="/review">去核实</a></p>'
                 if held else "")
    body = f"""<h1>{escape(county)} 村口认证汇总</h1>{held_html}
<h2>各村每日认证（最近两个月）</h2>{per_day}
<h2>终端设备</h2>{devices}{health_html}
<h2>逾期未认证（共 {total} 人）</h2>
<p class=empty>{escape(summary.get("rule_words", ""))}。名单与村里终端的提醒名单同一规则；身故人员不计入。</p>
<form method=get action=/><label>村 <input name=village value="{escape(summary.get('village') or '')}"></label>
<button>筛选</button></form>{overdue}<p>{' '.join(nav)}</p>"""
    return layout(text("page_status_title", county=county), body, user, role, csrf)


def render_review_page(records: list, tz=None, user: str | None = None, role: str | None = None,
                       csrf: str = "") -> str:
    can = role in ("operator", "admin")

    def actions(r) -> _Raw:
        if not can:
            return _Raw(text("page_needs_operator"))
        target = escape(f"{r.device_id}:{r.uuid}")
        return _Raw(f'<form method=post action=/review>{_hidden(csrf)}<input type=hidden name=record value="{target}">'
                    '<button name=decision value=confirmed>时间无误，计入</button> '
                    '<button name=decision value=rejected>驳回</button></form>')

    rows = [[r.device_id, r.kind, _mask(r.resident_id) if r.resident_id else None, r.verdict,
             _local(r.occurred_at, tz), _local(r.received_at, tz), r.suspect_reason, actions(r)] for r in records]
    body = ("<h1>时间可疑的记录</h1><p>这些记录的时间与县里时间相差太大（终端时钟可能不对），"
            "在核实之前不计入任何人的认证状态。请与村里核对认证的真实日期后确认或驳回。</p>"
            + _table([text("page_col_device"), text("page_col_kind"), text("word_id_number"), text("word_result"), text("page_col_occurred_at"), text("page_col_received_at"), text("page_col_reason"), text("page_col_action")], rows,
                     text("page_no_held_records")))
    return layout(text("page_review_title"), body, user, role, csrf)


_METHODS = {"staff_witness": text("word_staff_witness"), "relative_pledge": text("page_method_relative_pledge")}
_REASONS = {"attempts_exceeded": text("page_reasons_attempts_exceeded"), "cannot_perform_actions": text("page_reasons_cannot_perform_actions"),
            "refuses_face_recognition": text("page_reasons_refuses_face_recognition"), "no_template_cannot_enrol": text("page_reasons_no_template_cannot_enrol")}


def render_fallbacks_page(records: list, tz=None, user: str | None = None, role: str | None = None,
                          csrf: str = "") -> str:
    """Fallbacks waiting for review ((Record, None) pairs): approve, or reject with a reason."""
    import json

    def actions(r) -> _Raw:
        target = escape(f"{r.device_id}:{r.uuid}")
        return _Raw(f'<form method=post action=/fallbacks>{_hidden(csrf)}<input type=hidden name=record value="{target}">'
                    '<button name=decision value=approved>通过，计入认证</button> '
                    '<input name=reason placeholder="驳回原因" maxlength=200> '
                    '<button name=decision value=rejected>驳回</button></form>')

    rows = []
    for r, _d in records:
        p = json.loads(r.payload)
        relative = (f"{p.get('relation') or ''} {p.get('relative_name') or ''} {_mask(p['relative_id'])} "
                    f"{p.get('relative_phone') or ''}" if p.get("relative_id") else None)
        reason = _REASONS.get(p.get("reason", ""), p.get("reason")) + (text("page_detail", detail=p['detail']) if p.get("detail") else "")
        rows.append([r.device_id, r.village, _mask(r.resident_id) if r.resident_id else None,
                     _METHODS.get(p.get("method", ""), p.get("method")), reason, p.get("operator"), relative,
                     _local(r.occurred_at, tz), r.suspect_reason, actions(r)])
    body = ("<h1>不刷脸认证审核</h1><p>居民做不了刷脸时，村里工作人员核实或亲属承诺后提交的认证。通过后按提交日期计入认证；"
            "驳回时请写明原因，终端下次同步后会告诉居民。</p>"
            + _table([text("page_col_device"), text("page_col_village"), text("word_id_number"), text("word_method"), text("page_col_reason"), text("page_col_operator"), text("page_col_relative"), text("page_col_submitted_at"), text("page_col_time_note"), text("page_col_action")], rows,
                     text("page_no_fallbacks")))
    return layout(text("page_fallbacks_title"), body, user, role, csrf)


def render_audit_page(entries: list, tz=None, user: str | None = None, role: str | None = None,
                      csrf: str = "") -> str:
    rows = [[_local(e.at, tz), e.user, e.action, e.target, e.ip] for e in entries]
    body = "<h1>操作记录（谁看了、改了什么）</h1>" + _table([text("page_col_time"), text("page_col_user"), text("page_col_audit_action"), text("page_col_target"), text("page_col_address")], rows, text("page_no_audit"))
    return layout(text("page_audit_title"), body, user, role, csrf)


def _overdue_words(o: dict) -> str:
    """已暂停发放 (since when, when the dates say) / 已逾期，下月起暂停 (the status list's last column)."""
    since = o.get("suspended_since")
    if o.get("urgency") == "overdue":
        return text("page_overdue_suspended_from", since=since) if since else _URGENCY["overdue"]
    if o.get("status") == "suspended" and not since:
        return text("page_suspended_by_county")
    return text("page_suspended_since", since=since) if since else _URGENCY["suspended"]


# ---------------------------------------------------------------- due lists and figures (per village)
_URGENCY = {"suspended": text("page_urgency_suspended"), "overdue": text("page_urgency_overdue"), "never_certified": text("page_never_certified"), "due": text("page_urgency_due")}
_REASON_GROUPS = {"actions": text("page_reason_groups_actions"), "liveness": text("page_reason_groups_liveness"), "faces": text("page_reason_groups_faces"), "no_match": text("page_reason_groups_no_match"),
                  "needs_staff": text("page_reason_groups_needs_staff"), "quality": text("page_reason_groups_quality"), "interrupted": text("page_reason_groups_interrupted"),
                  "abandoned": text("page_reason_groups_abandoned"), "no_template": text("page_reason_groups_no_template"), "other": text("page_reason_groups_other")}
_TRIES = {"1": text("page_tries_1"), "2": text("page_tries_2"), "3": text("page_tries_3"), "4+": text("page_tries_4_plus")}
_DURATIONS = {"lt30": text("page_durations_lt30"), "lt60": text("page_durations_lt60"), "lt120": text("page_durations_lt120"), "ge120": text("page_durations_ge120")}


def _rule_note(d: dict, figures: bool = False) -> str:
    """The county's cycle rule in words under a list or the figures (kiosk.county.cycle.rule_words)."""
    words = d.get("rule_words") or ""
    if figures:
        return text("page_rule_note_figures", to=d['to'], words=words)
    return text("page_rule_note_lists", words=words)
CHART_STYLE = """.charts{display:flex;flex-wrap:wrap;gap:1.5em}.chart{border:1px solid #999;padding:.5em 1em;background:#fff}
.chart h3{margin:.2em 0 .5em;font-size:18px}svg text{font-family:sans-serif;font-size:15px}
.big{font-size:22px;font-weight:bold}.tabs a{margin-right:.8em}"""


def _svg_bars(rows: Sequence[tuple[str, float, str]], color: str = "#1f4e79", unit: str = "", max_value: float | None = None,
              width: int = 560) -> str:
    """A horizontal bar chart as inline SVG (no JavaScript, prints well): (label, value, text)."""
    if not rows:
        return "<p class=empty>这段时间没有数据。</p>"
    label_w, bar_h, gap = 150, 26, 10
    top = max_value or max((v for _, v, _ in rows), default=0) or 1
    plot_w = width - label_w - 150
    h = len(rows) * (bar_h + gap) + gap
    parts = [f'<svg role=img width="{width}" height="{h}" viewBox="0 0 {width} {h}" xmlns="http://www.w3.org/2000/svg">']
    for i, (lab, v, txt) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = max(0.0, plot_w * min(v, top) / top)
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h * 0.72:.0f}" text-anchor="end">{escape(lab)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>'
                     f'<text x="{label_w + w + 6:.1f}" y="{y + bar_h * 0.72:.0f}">{escape(txt)}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_daily(days: list[dict], width: int = 760, height: int = 240) -> str:
    """Stacked columns per day: passes (green) under failures (red)."""
    if not any(d["attempts"] for d in days):
        return "<p class=empty>这段时间没有认证记录。</p>"
    left, bottom, top_pad = 40, 36, 16
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = max(d["attempts"] for d in days) or 1
    col = plot_w / max(1, len(days))
    parts = [f'<svg role=img width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" stroke="#333"/>',
             f'<text x="{left - 6}" y="{top_pad + 12}" text-anchor="end">{top}</text>',
             f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>']
    step = max(1, len(days) // 8)
    for i, d in enumerate(days):
        x = left + i * col + col * 0.15
        w = col * 0.7
        hp = plot_h * d["passes"] / top
        hf = plot_h * d["fails"] / top
        y0 = top_pad + plot_h
        parts.append(f'<rect x="{x:.1f}" y="{y0 - hp:.1f}" width="{w:.1f}" height="{hp:.1f}" fill="#2e7d32">'
                     f'<title>{escape(d["date"])} 通过 {d["passes"]}</title></rect>')
        parts.append(f'<rect x="{x:.1f}" y="{y0 - hp - hf:.1f}" width="{w:.1f}" height="{hf:.1f}" fill="#c62828">'
                     f'<title>{escape(d["date"])} 未通过 {d["fails"]}</title></rect>')
        if i % step == 0:
            m, dd = d["date"][5:7].lstrip("0"), d["date"][8:10].lstrip("0")
            parts.append(f'<text x="{x + w / 2:.1f}" y="{height - 12}" text-anchor="middle">{m}/{dd}</text>')
    parts.append("</svg>")
    return ("".join(parts) + '<p><span style="color:#2e7d32">■</span> 通过　'
            '<span style="color:#c62828">■</span> 未通过</p>')


def _village_tabs(path: str, villages: list[str], current: str | None, extra: dict, allow_all: bool) -> str:
    links = [f'<a href="{path}?{urlencode(extra)}">{"<b>全部村</b>" if not current else "全部村"}</a>'] if allow_all else []
    for v in villages:
        label = f"<b>{escape(v)}</b>" if v == current else escape(v)
        links.append(f'<a href="{path}?{urlencode({**extra, "village": v})}">{label}</a>')
    return f"<p class=tabs>村：{''.join(links)}</p>"


def render_due_page(due: dict | None, villages: list[str], user: str | None = None, role: str | None = None,
                    csrf: str = "") -> str:
    tabs = _village_tabs("/due", villages, due["village"] if due else None, {"days": due["days"] if due else 30}, False)
    if due is None:
        body = f"<h1>认证提醒名单</h1>{tabs}<p>请先选一个村。</p>"
        return layout(text("page_due_title"), body, user, role, csrf)
    counts = text("page_due_separator").join(text("page_due_count", urgency=_URGENCY[u], n=n) for u, n in due["counts"].items() if n) or text("page_due_none")
    rows = [[i, r["name"], r["id"], _URGENCY[r["urgency"]],
             (text("page_due_suspended_from", date=r['date']) if r["urgency"] in ("suspended", "overdue") else text("page_due_deadline", date=r['date'])) if r["date"] else None,
             r["last"] or text("page_never_certified")] for i, r in enumerate(due["residents"], 1)]
    q = urlencode({"village": due["village"], "days": due["days"]})
    body = f"""<style>{CHART_STYLE}</style><h1>{escape(due['village'])} 认证提醒名单（公示版，姓名和身份证号已打码）</h1>{tabs}
<p>截至 {escape(due['today'])}，含 {due['days']} 天内到期：共 {len(rows)} 人（{escape(counts)}）。</p>
<p class=empty>{escape(_rule_note(due))}</p>
<p><a href="/due.xlsx?{q}">导出 Excel</a>　<a href="/figures?{urlencode({'village': due['village']})}">本村认证统计</a></p>
{_table(["序号", "姓名", "身份证号", "情况", "截止/暂停", "最近认证"], rows, "没有需要提醒的人：都已认证（或由大数据比对认证）。")}"""
    return layout(text("page_due_village_title", village=due['village']), body, user, role, csrf)


def render_figures_page(f: dict, villages: list[str], user: str | None = None, role: str | None = None,
                        csrf: str = "") -> str:
    rng = {"from": f["from"], "to": f["to"]}
    tabs = _village_tabs("/figures", villages, f["village"], rng, True)
    t = f["totals"]
    rate = "—" if t["rate"] is None else f"{100 * t['rate']:.1f}%"
    village_rows = [(v["village"] or text("page_no_village"), 100 * (v["rate"] or 0),
                     text("page_rate", percent=100 * (v['rate'] or 0), certified=v['certified'], must_certify=v['must_certify']))
                    for v in f["villages"] if v["must_certify"]]
    tries = [(_TRIES[k], n, str(n)) for k, n in f["tries_per_pass"]["buckets"].items()]
    reasons = [(_REASON_GROUPS.get(r["reason"], r["reason"]), r["count"], str(r["count"])) for r in f["failure_reasons"]]
    durations = [(_DURATIONS[k], n, str(n)) for k, n in f["time_to_certify"]["buckets"].items()]
    fb_rows = [[{"staff_witness": text("word_staff_witness"), "relative_pledge": text("page_method_relative_pledge")}[x["method"]], x["pending"],
                x["approved"], x["rejected"]] for x in f["fallbacks"]]
    median = f["time_to_certify"]["median_s"]
    mean_tries = f["tries_per_pass"]["mean"]
    q = urlencode({**({"village": f["village"]} if f["village"] else {}), **rng})
    place = f["village"] or text("page_all_villages")
    due_link = (f'　<a href="/due?{urlencode({"village": f["village"]})}">本村认证提醒名单</a>' if f["village"] else "")
    body = f"""<style>{CHART_STYLE}</style><h1>{escape(place)} 认证统计</h1>{tabs}
<form method=get action=/figures>{'<input type=hidden name=village value="' + escape(f['village']) + '">' if f['village'] else ''}
<label>从 <input type=date name=from value="{escape(f['from'])}"></label> <label>到 <input type=date name=to value="{escape(f['to'])}"></label>
<button>查看</button></form>
<p class=big>认证率 {rate}（已认证 {t['certified']} / 应认证 {t['must_certify']} 人）</p>
<p>{escape(f['from'])} 至 {escape(f['to'])}：刷脸 {t['attempts']} 次，通过 {t['passes']} 次；每次通过平均刷脸
{mean_tries if mean_tries is not None else '—'} 次；用时中位数 {median if median is not None else '—'} 秒。</p>
<p class=empty>{escape(_rule_note(f, figures=True))}</p>
<p><a href="/figures.xlsx?{q}">导出 Excel</a>{due_link}</p>
<div class=charts>
<div class=chart><h3>各村认证率</h3>{_svg_bars(village_rows, "#1f4e79", max_value=100)}</div>
<div class=chart><h3>每日刷脸与通过</h3>{_svg_daily(f["days"])}</div>
<div class=chart><h3>每次通过用了几次刷脸</h3>{_svg_bars(tries, "#2e7d32") if f["tries_per_pass"]["passes"] else _svg_bars([])}</div>
<div class=chart><h3>未通过原因</h3>{_svg_bars(reasons, "#c62828")}</div>
<div class=chart><h3>认证用时（通过的）</h3>{_svg_bars(durations, "#1f4e79") if f["time_to_certify"]["passes"] else _svg_bars([])}</div>
<div class=chart><h3>非刷脸认证及审核结果</h3>{_table(["方式", "待审核", "审核通过", "审核未通过"], fb_rows, "没有。")}</div>
</div>"""
    return layout(text("page_figures_title", place=place), body, user, role, csrf)


def figures_workbook(f: dict) -> bytes:
    """The figures as an XLSX workbook (one sheet per table), for the county's spreadsheets."""
    sheets = [
        (text("page_sheet_rates"), [text("page_col_village"), text("page_col_on_roster"), text("page_col_must_certify"), text("page_col_certified"), text("page_col_rate"), text("page_col_data_comparison"), text("page_col_deceased")],
         [[v["village"] or "", v["residents"], v["must_certify"], v["certified"],
           None if v["rate"] is None else round(100 * v["rate"], 1), v["data_comparison"], v["deceased"]]
          for v in f["villages"]]),
        (text("page_sheet_daily"), [text("word_date"), text("page_col_tries"), text("word_approved"), text("page_col_failed")], [[d["date"], d["attempts"], d["passes"], d["fails"]] for d in f["days"]]),
        (text("page_sheet_tries_per_pass"), [text("page_col_tries"), text("word_approved")], [[_TRIES[k], n] for k, n in f["tries_per_pass"]["buckets"].items()]),
        (text("page_sheet_fail_reasons"), [text("page_col_reason"), text("page_col_count")], [[_REASON_GROUPS.get(r["reason"], r["reason"]), r["count"]] for r in f["failure_reasons"]]),
        (text("page_sheet_fallbacks"), [text("word_method"), text("page_col_pending"), text("page_col_approved"), text("page_col_rejected")],
         [[x["method"], x["pending"], x["approved"], x["rejected"]] for x in f["fallbacks"]]),
        (text("page_sheet_durations"), [text("page_col_duration"), text("word_approved")], [[_DURATIONS[k], n] for k, n in f["time_to_certify"]["buckets"].items()]),
    ]
    return _workbook(sheets)


def due_workbook(due: dict) -> bytes:
    rows = [[i, r["name"], r["id"], _URGENCY[r["urgency"]], r["date"], r["last"] or text("page_never_certified")]
            for i, r in enumerate(due["residents"], 1)]
    return _workbook([(text("page_due_sheet", village=due['village'])[:31], [text("page_col_number"), text("word_name"), text("word_id_number"), text("page_col_situation"), text("page_col_deadline"), text("page_col_last_certified")], rows)])


def _workbook(sheets: list[tuple[str, list[str], list[list]]]) -> bytes:
    import io

    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title)
        ws.append(header)
        for c in ws[1]:
            c.font = Font(bold=True)
        for r in rows:
            ws.append(r)
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_ROLES = {"assistant": text("page_roles_assistant"), "reviewer": text("page_roles_reviewer"), "admin": text("page_roles_admin")}
_TEMPLATE = {"stored": text("page_template_stored"), "discarded": text("page_template_discarded"),
             None: text("page_template_none")}


def render_enrolments_page(records: list, shared: bool, tz=None, user: str | None = None, role: str | None = None,
                           csrf: str = "") -> str:
    """Enrolments reviewed at terminals ((Record, payload) pairs, newest first): who enrolled, who
    read the consent, who approved or rejected, and where the template went."""
    def who(name, r) -> str:
        return text("page_person_role", name=name, role=_ROLES.get(r or '', r or '')) if r else str(name)

    rows = [[_local(p.get("reviewed_at"), tz), r.device_id, r.village, _mask(r.resident_id) if r.resident_id else None,
             who(p.get("enrolled_by"), p.get("enrolled_by_role")),
             text("page_consent", read_by=p.get('consent_read_by'), at=_local(p.get('consent_at'), tz)),
             who(p.get("reviewed_by"), p.get("reviewed_by_role")),
             text("word_approved") if p.get("decision") == "approved" else text("page_rejected_because", reason=p.get('reject_reason') or ''),
             p.get("frames"), _TEMPLATE.get(p.get("hub_template"), p.get("hub_template")), _resemblance_cell(p)]
            for r, p in records]
    policy = (text("page_templates_shared")
              if shared else text("page_templates_not_shared"))
    body = (f"<h1>终端建模记录</h1><p>{escape(policy)}</p>"
            "<form method=get action=/enrolments><label>身份证号 <input name=resident maxlength=18></label>"
            "<button>查找</button></form>"
            + _table([text("page_col_reviewed_at"), text("page_col_device"), text("page_col_village"), text("word_id_number"), text("page_col_enrolled_by"), text("page_col_consent"), text("page_col_reviewed_by"), text("word_result"), text("page_col_frames"),
                      text("page_col_template"), text("page_col_duplicate_check")], rows, text("page_no_enrolments")))
    return layout(text("page_enrolments_title"), body, user, role, csrf)


def _resemblance_cell(p: dict) -> str | _Raw | None:
    """v5: the terminal's duplicate-face check (the face resembles another resident there) and the
    reviewer's confirmation; None (—) for a record from a terminal before v5."""
    if p.get("resembles") is None:
        return None
    within = [r for r in p["resembles"] if r.get("within")]
    if not within:
        return text("page_no_resemblance")
    others = message("protocol_list_separator").join(text("page_resembles", mask=_mask(r['resident_id']), distance=r['distance'], pending=text("page_pending_review") if r.get('source') == 'pending' else '')
                      for r in within)
    conf = p.get("resemble_confirmation")
    said = (text("page_resemblance_confirmed", reason=conf.get('reason'), by=conf.get('by')) if conf
            else (text("page_resemblance_unconfirmed") if p.get("decision") == "approved" else text("page_resemblance_rejected")))
    return _Raw(f"<span class=warn>像本终端另 {len(within)} 人：{escape(others)}</span><br>{escape(said)}")


# ---------------------------------------------------------------- terminal health (heartbeats, issue 14)
_HEALTH_NAMES = {"camera": text("page_health_names_camera"), "audio": text("page_health_names_audio"), "disk": text("page_health_names_disk"), "database": text("page_health_names_database"), "template_key": text("page_health_names_template_key"),
                 "clock": text("page_health_names_clock"), "roster": text("page_health_names_roster"), "hub": text("page_health_names_hub"), "printer": text("page_health_names_printer")}
_HEALTH_STATES = {"broken": text("page_health_states_broken"), "warn": text("page_health_states_warn")}


def _health_table(summary: dict, tz=None) -> str:
    """Each kiosk's latest heartbeat; silent ones (none for `silent_min` minutes) flagged first."""
    health: dict = summary.get("health") or {}
    if not health:
        return ""
    limit = summary.get("silent_min", 30)
    rows = []
    for dev_id, h in sorted(health.items(), key=lambda kv: (not kv[1]["silent"], kv[0])):
        if h["minutes_ago"] is None:
            state = text("page_never_reported")
        elif h["silent"]:
            state = text("page_lost", minutes_ago=h['minutes_ago'])
        elif h.get("paused"):
            state = text("page_paused")
        elif h.get("maintenance"):
            state = text("page_in_maintenance")
        else:
            state = text("page_online")
        problems = message("protocol_list_separator").join(f"{_HEALTH_NAMES.get(k, k)}{_HEALTH_STATES[v]}" for k, v in h.get("checks", {}).items()
                            if v in _HEALTH_STATES) or (text("word_active") if h["minutes_ago"] is not None else None)
        rows.append([dev_id, state, problems, h.get("app_version"),
                     None if h.get("disk_free_mb") is None else f"{h['disk_free_mb']} MB", h.get("queue_length"),
                     _local(h.get("last_certification_at"), tz), _local(h.get("received_at"), tz)])
    silent = sum(1 for h in health.values() if h["silent"])
    warn = f'<p class=warn>{silent} 台终端超过 {limit:.0f} 分钟没有报告状态，请联系所在村。</p>' if silent else ""
    return "<h2>终端状态（心跳）</h2>" + warn + _table(
        [text("page_col_device_id"), text("page_col_status"), text("page_col_selftest"), text("page_col_version"), text("page_col_disk_free"), text("page_col_unsent"), text("page_col_last_certified"), text("page_col_last_report")], rows, "")


def render_receipt_page(code: str, lines: list[tuple[str, str]] | None, result: str = "", error: str = "",
                        user: str | None = None, role: str | None = None, csrf: str = "") -> str:
    """Check a resident's receipt (认证回执): the code typed or the QR's text pasted; the answer below."""
    answer = ""
    if error:
        answer = f"<p class=warn>{escape(error)}</p>"
    elif lines:
        cls = " class=warn" if result == "not_genuine" else ""
        head, rest = lines[0], lines[1:]
        answer = (f"<h2{cls}>{escape(head[1])}</h2>"
                  + _table([text("page_col_item"), text("page_col_content")], [[k, v] for k, v in rest], ""))
    body = f"""<h1>核验认证回执</h1>
<p>输入居民回执上的 28 位验证码（横线可有可无，不分大小写），或粘贴扫描二维码得到的文字。</p>
<form method=get action=/receipt><p><input name=code size=60 maxlength=300 value="{escape(code)}" autofocus>
<button>核验</button></p></form>{answer}"""
    return layout(text("page_receipt_title"), body, user, role, csrf)
