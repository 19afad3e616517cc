"""The small HTML pages for county staff (no JavaScript, prints well): status, login, clock
review, staff audit. Every value is escaped; every form carries the session's CSRF token."""
from __future__ import annotations

from datetime import datetime
from html import escape
from urllib.parse import urlencode

from kiosk.core.clock import default_clock
from kiosk.core.ids import mask_id

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
        links = ['<a href="/">汇总</a>', '<a href="/review">时间可疑记录</a>']
        if role in ("operator", "admin"):
            links.append('<a href="/fallbacks">不刷脸认证审核</a>')
            links.append('<a href="/enrolments">终端建模记录</a>')
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
    return layout("登录", body)


def render_status_page(county: str, summary: dict, tz=None, user: str | None = None, role: str | None = None,
                       csrf: str = "") -> str:
    per_day = _table(["日期", "村", "认证通过", "未通过"],
                     [[d["day"], d["village"] or "（未分村）", d["pass"], d["fail"]] for d in summary["per_day"][:400]],
                     "最近没有收到认证记录。")
    gaps = summary.get("gaps", {})

    def gap_text(device_id: str) -> str:
        g = gaps.get(device_id)
        if not g or not g["missing"]:
            return "无缺口"
        ranges = "、".join(f"{a}-{b}" if a != b else str(a) for a, b in g["ranges"][:5])
        return f"缺 {g['missing']} 个（{ranges}）"

    devices = _table(["设备编号", "名称", "村", "状态", "最近联系", "最近上传", "最近U盘导入", "时钟偏差", "记录序号"],
                     [[d.id, d.name, d.village, "正常" if d.status == "active" else "已停用", _local(d.last_seen_at, tz),
                       _local(d.last_push_at, tz), _local(d.last_bundle_at, tz),
                       None if d.clock_offset_s is None else f"{d.clock_offset_s / 3600:+.1f} 小时",
                       gap_text(d.id)] for d in summary["devices"]],
                     "还没有登记任何设备。用 kiosk-county provision 生成开通码。")
    overdue = _table(["身份证号", "姓名", "村", "最近认证", "状态"],
                     [[_mask(o["id_number"]), o["name"], o["village"], o["last"] or "从未认证",
                       {"active": "正常", "suspended": "已暂停"}.get(o["status"], o["status"])]
                      for o in summary["overdue"]],
                     "没有超期未认证的人员。")
    total, page, per_page = summary.get("overdue_total", len(summary["overdue"])), summary.get("page"), \
        summary.get("per_page", 100)
    pages = max(1, -(-total // per_page))
    q = {"village": summary["village"]} if summary.get("village") else {}
    nav = []
    if page and page > 1:
        nav.append(f'<a href="/?{urlencode({**q, "page": page - 1})}">上一页</a>')
    elif page is None:
        nav.append(f'<a href="/?{urlencode(q)}">回到第一页</a>')
    nav.append(f"第 {page} / {pages} 页" if page else f"共 {pages} 页")
    if summary.get("next_after"):
        nav.append(f'<a href="/?{urlencode({**q, "after": summary["next_after"]})}">下一页</a>')
    health_html = _health_table(summary, tz)
    held = summary.get("held", 0)
    held_html = (f'<p class=warn>有 {held} 条记录时间可疑，暂不计入认证状态：<a href="/review">去核实</a></p>'
                 if held else "")
    body = f"""<h1>{escape(county)} 村口认证汇总</h1>{held_html}
<h2>各村每日认证（最近两个月）</h2>{per_day}
<h2>终端设备</h2>{devices}{health_html}
<h2>超过12个月未认证（共 {total} 人）</h2>
<form method=get action=/><label>村 <input name=village value="{escape(summary.get('village') or '')}"></label>
<button>筛选</button></form>{overdue}<p>{' '.join(nav)}</p>"""
    return layout(f"{county} 认证汇总", body, user, role, csrf)


def render_review_page(records: list, tz=None, user: str | None = None, role: str | None = None,
                       csrf: str = "") -> str:
    can = role in ("operator", "admin")

    def actions(r) -> _Raw:
        if not can:
            return _Raw("（需经办权限）")
        target = escape(f"{r.device_id}:{r.uuid}")
        return _Raw(f'<form method=post action=/review>{_hidden(csrf)}<input type=hidden name=record value="{target}">'
                    '<button name=decision value=confirmed>时间无误，计入</button> '
                    '<button name=decision value=rejected>驳回</button></form>')

    rows = [[r.device_id, r.kind, _mask(r.resident_id) if r.resident_id else None, r.verdict,
             _local(r.occurred_at, tz), _local(r.received_at, tz), r.suspect_reason, actions(r)] for r in records]
    body = ("<h1>时间可疑的记录</h1><p>这些记录的时间与县里时间相差太大（终端时钟可能不对），"
            "在核实之前不计入任何人的认证状态。请与村里核对认证的真实日期后确认或驳回。</p>"
            + _table(["设备", "类型", "身份证号", "结果", "记录时间", "县里收到", "原因", "处理"], rows,
                     "没有待核实的记录。"))
    return layout("时间可疑的记录", body, user, role, csrf)


_METHODS = {"staff_witness": "工作人员核实认证", "relative_pledge": "亲属承诺"}
_REASONS = {"attempts_exceeded": "当天刷脸多次不成功", "cannot_perform_actions": "做不了刷脸动作",
            "refuses_face_recognition": "不愿意刷脸", "no_template_cannot_enrol": "没有建模、也无法建模"}


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
        reason = _REASONS.get(p.get("reason", ""), p.get("reason")) + (f"（{p['detail']}）" if p.get("detail") else "")
        rows.append([r.device_id, r.village, _mask(r.resident_id) if r.resident_id else None,
                     _METHODS.get(p.get("method", ""), p.get("method")), reason, p.get("operator"), relative,
                     _local(r.occurred_at, tz), r.suspect_reason, actions(r)])
    body = ("<h1>不刷脸认证审核</h1><p>居民做不了刷脸时，村里工作人员核实或亲属承诺后提交的认证。通过后按提交日期计入认证；"
            "驳回时请写明原因，终端下次同步后会告诉居民。</p>"
            + _table(["设备", "村", "身份证号", "方式", "原因", "核实人", "亲属", "提交时间", "时间提醒", "处理"], rows,
                     "没有待审核的记录。"))
    return layout("不刷脸认证审核", body, user, role, csrf)


def render_audit_page(entries: list, tz=None, user: str | None = None, role: str | None = None,
                      csrf: str = "") -> str:
    rows = [[_local(e.at, tz), e.user, e.action, e.target, e.ip] for e in entries]
    body = "<h1>操作记录（谁看了、改了什么）</h1>" + _table(["时间", "用户", "操作", "对象", "地址"], rows, "还没有记录。")
    return layout("操作记录", body, user, role, csrf)


_ROLES = {"assistant": "协理员", "reviewer": "审核员", "admin": "管理员"}
_TEMPLATE = {"stored": "已收到，共享给本县其他终端", "discarded": "未保存（县里设置为不共享）",
             None: "未上传，只留在建模的终端"}


def render_enrolments_page(records: list, shared: bool, tz=None, user: str | None = None, role: str | None = None,
                           csrf: str = "") -> str:
    """Enrolments reviewed at terminals ((Record, payload) pairs, newest first): who enrolled, who
    read the consent, who approved or rejected, and where the template went."""
    def who(name, r) -> str:
        return f"{name}（{_ROLES.get(r or '', r or '')}）" if r else str(name)

    rows = [[_local(p.get("reviewed_at"), tz), r.device_id, r.village, _mask(r.resident_id) if r.resident_id else None,
             who(p.get("enrolled_by"), p.get("enrolled_by_role")),
             f"{p.get('consent_read_by')}，{_local(p.get('consent_at'), tz)}",
             who(p.get("reviewed_by"), p.get("reviewed_by_role")),
             "通过" if p.get("decision") == "approved" else f"驳回：{p.get('reject_reason') or ''}",
             p.get("frames"), _TEMPLATE.get(p.get("hub_template"), p.get("hub_template"))] for r, p in records]
    policy = ("本县设置：终端建模审核通过后，加密模板上传县里并共享给本县其他终端（kiosk-county setting share_templates off 可关闭）。"
              if shared else "本县设置：模板只留在建模的终端，县里只记录建模事实（kiosk-county setting share_templates on 可开启）。")
    body = (f"<h1>终端建模记录</h1><p>{escape(policy)}</p>"
            "<form method=get action=/enrolments><label>身份证号 <input name=resident maxlength=18></label>"
            "<button>查找</button></form>"
            + _table(["审核时间", "设备", "村", "身份证号", "建模人", "告知同意（宣读人、时间）", "审核人", "结果", "帧数",
                      "模板"], rows, "还没有终端建模记录。"))
    return layout("终端建模记录", body, user, role, csrf)


# ---------------------------------------------------------------- terminal health (heartbeats, issue 14)
_HEALTH_NAMES = {"camera": "摄像头", "audio": "声音", "disk": "磁盘", "database": "数据库", "template_key": "密钥",
                 "clock": "时钟", "roster": "名册", "hub": "联网", "printer": "打印机"}
_HEALTH_STATES = {"broken": "故障", "warn": "注意"}


def _health_table(summary: dict, tz=None) -> str:
    """Each kiosk's latest heartbeat; silent ones (none for `silent_min` minutes) flagged first."""
    health: dict = summary.get("health") or {}
    if not health:
        return ""
    limit = summary.get("silent_min", 30)
    rows = []
    for dev_id, h in sorted(health.items(), key=lambda kv: (not kv[1]["silent"], kv[0])):
        if h["minutes_ago"] is None:
            state = "从未报告"
        elif h["silent"]:
            state = f"失联（{h['minutes_ago']:.0f} 分钟没有消息）"
        elif h.get("paused"):
            state = "暂停服务"
        elif h.get("maintenance"):
            state = "维护中"
        else:
            state = "在线"
        problems = "、".join(f"{_HEALTH_NAMES.get(k, k)}{_HEALTH_STATES[v]}" for k, v in h.get("checks", {}).items()
                            if v in _HEALTH_STATES) or ("正常" if h["minutes_ago"] is not None else None)
        rows.append([dev_id, state, problems, h.get("app_version"),
                     None if h.get("disk_free_mb") is None else f"{h['disk_free_mb']} MB", h.get("queue_length"),
                     _local(h.get("last_certification_at"), tz), _local(h.get("received_at"), tz)])
    silent = sum(1 for h in health.values() if h["silent"])
    warn = f'<p class=warn>{silent} 台终端超过 {limit:.0f} 分钟没有报告状态，请联系所在村。</p>' if silent else ""
    return "<h2>终端状态（心跳）</h2>" + warn + _table(
        ["设备编号", "状态", "自检", "程序版本", "磁盘剩余", "待上传", "最近认证", "最近报告"], rows, "")
