"""Charts of the figures (kiosk.stats) as PNG or SVG, in the shipped Chinese font (matplotlib, Agg;
no Qt, no display). A person would rather look than read: the staff app's 统计 screen and the
hub's figures page show these.

`render_all(figures, folder, fmt="png", scale=1.0)` → {chart name: path}; one function per chart.
Large type (14 px and up at scale 1), high-contrast colours that survive a grey printout, the
value written on every bar. Words from kiosk.texts (`chart_*`, `stats_*`).
"""
from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from kiosk.core.paths import assets_dir
from kiosk.stats import Figures
from kiosk.texts import text

__all__ = ["CHARTS", "render", "render_all"]

CHARTS = ("rate_by_village", "daily", "tries", "reasons", "fallbacks", "duration")
BLUE, GREEN, RED, GREY, ORANGE = "#1f4e79", "#2e7d32", "#c62828", "#757575", "#ef6c00"
_lock = threading.Lock()  # rcParams are global: one chart at a time
_family: str | None = None


def _font() -> str:
    """Register the shipped CJK subset with matplotlib once; returns its family name."""
    global _family
    if _family is None:
        from matplotlib import font_manager

        for f in sorted(assets_dir("fonts").glob("*.otf")):
            font_manager.fontManager.addfont(str(f))
        _family = font_manager.FontProperties(fname=str(assets_dir("fonts", "NotoSansSC-Subset.otf"))).get_name()
    return _family


def _rc() -> dict:
    return {
        "font.family": _font(), "font.size": 14, "axes.titlesize": 18, "axes.titleweight": "bold",
        "axes.labelsize": 14, "xtick.labelsize": 13, "ytick.labelsize": 13, "legend.fontsize": 13,
        "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "path",
        "axes.unicode_minus": False,
    }


def _figure(width: float, height: float, scale: float):
    """A figure of its own (no pyplot: no global figure manager, no GUI backend, any thread)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100 * scale)
    return fig, fig.subplots()


def _finish(fig, path: Path) -> Path:
    fig.savefig(path, format=path.suffix.lstrip("."), facecolor="white", bbox_inches="tight", pad_inches=0.15)
    return path


def _no_data(ax) -> None:
    ax.text(0.5, 0.5, text("chart_no_data"), ha="center", va="center", fontsize=18, color=GREY,
            transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _bars(ax, labels, values, color, fmt="{:g}", horizontal=True) -> None:
    if horizontal:
        bars = ax.barh(labels, values, color=color)
        ax.invert_yaxis()
    else:
        bars = ax.bar(labels, values, color=color)
    top = max(values, default=0) or 1
    for b, v in zip(bars, values, strict=True):
        if horizontal:
            ax.text(b.get_width() + top * 0.01, b.get_y() + b.get_height() / 2, fmt.format(v), va="center",
                    fontsize=14)
        else:
            ax.text(b.get_x() + b.get_width() / 2, b.get_height() + top * 0.01, fmt.format(v), ha="center",
                    va="bottom", fontsize=14)
    if horizontal:
        ax.set_xlim(0, top * 1.18)
    else:
        ax.set_ylim(0, top * 1.18)


def rate_by_village(f: Figures, path: Path, scale: float = 1.0) -> Path:
    rows = [v for v in f.villages if v["must_certify"]]
    fig, ax = _figure(8, max(2.6, 0.9 + 0.55 * len(rows)), scale)
    ax.set_title(text("chart_rate_by_village"), loc="left")
    if not rows:
        _no_data(ax)
    else:
        labels = [v["village"] or "—" for v in rows]
        pct = [round(100 * (v["rate"] or 0), 1) for v in rows]
        colors = [GREEN if p >= 90 else ORANGE if p >= 60 else RED for p in pct]
        bars = ax.barh(labels, pct, color=colors)
        ax.invert_yaxis()
        for b, v, p in zip(bars, rows, pct, strict=True):
            ax.text(min(p, 100) + 1.5, b.get_y() + b.get_height() / 2,
                    text("engine_rate_of", pct=p, n=v["certified"], of=v["must_certify"]), va="center", fontsize=14)
        ax.set_xlim(0, 135)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xticklabels(["0", "25%", "50%", "75%", "100%"])
    return _finish(fig, path)


def daily(f: Figures, path: Path, scale: float = 1.0) -> Path:
    fig, ax = _figure(8, 3.6, scale)
    ax.set_title(text("chart_daily"), loc="left")
    days = [date.fromisoformat(d["date"]) for d in f.days]
    if not days:
        _no_data(ax)
        return _finish(fig, path)
    x = list(range(len(days)))
    passes = [d["passes"] for d in f.days]
    fails = [d["fails"] for d in f.days]
    ax.bar(x, passes, color=GREEN, label=text("stats_col_passes"))
    ax.bar(x, fails, bottom=passes, color=RED, label=text("stats_col_fails"))
    step = max(1, len(days) // 8)
    ax.set_xticks(x[::step])
    ax.set_xticklabels([f"{d.month}/{d.day}" for d in days[::step]])
    ax.set_ylabel(text("stats_col_attempts"))
    top = max((p + q for p, q in zip(passes, fails, strict=True)), default=0)
    ax.set_ylim(0, max(1, top) * 1.25)
    ax.yaxis.get_major_locator().set_params(integer=True)
    rate = ax.twinx()
    rate.plot(x, [100 * (d["rate"] or 0) for d in f.days], color=BLUE, linewidth=3, marker="o", markersize=5,
              label=text("chart_daily_rate"))
    rate.set_ylim(0, 105)
    rate.set_ylabel(text("chart_daily_rate") + " %")
    rate.spines["top"].set_visible(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = rate.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", frameon=False, ncol=3)
    return _finish(fig, path)


def tries(f: Figures, path: Path, scale: float = 1.0) -> Path:
    fig, ax = _figure(5.5, 3.6, scale)
    ax.set_title(text("chart_tries"), loc="left")
    b = f.tries_per_pass.get("buckets", {})
    if not sum(b.values()):
        _no_data(ax)
    else:
        _bars(ax, [text(f"stats_tries_{k}") for k in b], list(b.values()), [GREEN, BLUE, ORANGE, RED],
              horizontal=False)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
    return _finish(fig, path)


def reasons(f: Figures, path: Path, scale: float = 1.0) -> Path:
    rows = f.failure_reasons
    fig, ax = _figure(5.5, max(2.6, 0.9 + 0.5 * len(rows)), scale)
    ax.set_title(text("chart_reasons"), loc="left")
    if not rows:
        _no_data(ax)
    else:
        _bars(ax, [r["label"] for r in rows], [r["count"] for r in rows], RED)
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
    return _finish(fig, path)


def fallbacks(f: Figures, path: Path, scale: float = 1.0) -> Path:
    fig, ax = _figure(5.5, 3.0, scale)
    ax.set_title(text("chart_fallbacks"), loc="left")
    rows = f.fallbacks
    if not any(r["total"] for r in rows):
        _no_data(ax)
        return _finish(fig, path)
    labels = [r["label"] for r in rows]
    left = [0] * len(rows)
    for key, color, code in (("approved", GREEN, "stats_col_approved"), ("pending", ORANGE, "stats_col_pending"),
                             ("rejected", RED, "stats_col_rejected")):
        vals = [r[key] for r in rows]
        bars = ax.barh(labels, vals, left=left, color=color, label=text(code))
        for b, v in zip(bars, vals, strict=True):
            if v:
                ax.text(b.get_x() + b.get_width() / 2, b.get_y() + b.get_height() / 2, str(v), ha="center",
                        va="center", color="white", fontsize=14, fontweight="bold")
        left = [a + v for a, v in zip(left, vals, strict=True)]
    ax.invert_yaxis()
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.35), ncol=3, frameon=False)
    return _finish(fig, path)


def duration(f: Figures, path: Path, scale: float = 1.0) -> Path:
    fig, ax = _figure(5.5, 3.6, scale)
    t = f.time_to_certify
    title = text("chart_duration")
    if t.get("median_s") is not None:
        title += "  " + text("chart_duration_median", s=f"{t['median_s']:g}")
    ax.set_title(title, loc="left")
    b = t.get("buckets", {})
    if not sum(b.values()):
        _no_data(ax)
    else:
        _bars(ax, [text(f"stats_dur_{k}") for k in b], list(b.values()), BLUE, horizontal=False)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
    return _finish(fig, path)


_RENDER = {"rate_by_village": rate_by_village, "daily": daily, "tries": tries, "reasons": reasons,
           "fallbacks": fallbacks, "duration": duration}


def render(name: str, f: Figures, path: Path, scale: float = 1.0) -> Path:
    import matplotlib

    with _lock, matplotlib.rc_context(_rc()):
        return _RENDER[name](f, Path(path), scale)


def render_all(f: Figures, folder: Path, fmt: str = "png", scale: float = 1.0) -> dict[str, Path]:
    """Every chart into `folder` as `<name>.<fmt>` (png or svg)."""
    if fmt not in ("png", "svg"):
        raise ValueError("fmt must be png or svg")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {name: render(name, f, folder / f"{name}.{fmt}", scale) for name in CHARTS}
