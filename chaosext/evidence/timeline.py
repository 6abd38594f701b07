"""One PNG per run: client and server p99 and the error rate over time, fault window shaded."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from chaosext.evidence.figures import (  # noqa: E402
    Series,
    fault_window,
    fmt_ms,
    fmt_offset,
    fmt_rate,
    series,
    thresholds,
)
from chaosext.evidence.journal import Journal  # noqa: E402

__all__ = ["has_timeline", "render_timeline"]

_COLORS = {"client": "#1f77b4", "server": "#ff7f0e", "errors": "#9467bd", "threshold": "#d62728"}


def has_timeline(journal: Journal) -> bool:
    return any(series(journal, name) for name in ("client_p99_ms", "server_p99_ms", "error_rate"))


def _shift(points: Series, origin: float) -> tuple[list[float], list[float]]:
    return [t - origin for t, _ in points], [v for _, v in points]


def _shade(ax: Axes, window: tuple[float, float] | None, origin: float, label: bool) -> None:
    if window is not None:
        ax.axvspan(
            window[0] - origin,
            window[1] - origin,
            color="#d62728",
            alpha=0.12,
            lw=0,
            label="fault window" if label else None,
        )


def _wrap(text: str, width: int = 120, lines: int = 2) -> str:
    wrapped = textwrap.wrap(text, width=width)
    if len(wrapped) > lines:
        wrapped = [
            *wrapped[: lines - 1],
            textwrap.shorten(" ".join(wrapped[lines - 1 :]), width, placeholder=" …"),
        ]
    return "\n".join(wrapped)


def _top(ax: Axes) -> float:
    """Head-room above the data so the peak label stays inside the panel."""
    return float(ax.get_ylim()[1]) * 1.12


def _mark_peak(ax: Axes, points: Series, origin: float, fmt: Callable[[float], str]) -> None:
    ts, value = max(points, key=lambda p: p[1])
    ax.annotate(
        f"peak {fmt(value)} at {fmt_offset(ts - origin)}",
        xy=(ts - origin, value),
        xytext=(0, 8),
        textcoords="offset points",
        ha="center",
        fontsize=9,
        color=_COLORS["client"],
    )


def render_timeline(journal: Journal, out: Path, title: str, subtitle: str = "") -> Path | None:
    """Draw the run's timeline into ``out``; None (and no file) when the journal recorded none."""
    if not has_timeline(journal):
        return None
    client, server = series(journal, "client_p99_ms"), series(journal, "server_p99_ms")
    errors = series(journal, "error_rate")
    limits = thresholds(journal)
    window = fault_window(journal)
    origin = window[0] if window else min(p[0] for p in client + server + errors)

    fig, (lat, err) = plt.subplots(
        2, 1, figsize=(11, 6.4), sharex=True, height_ratios=[3, 2], dpi=100, layout="constrained"
    )
    try:
        fig.suptitle(textwrap.fill(title, 95), fontsize=13, fontweight="bold", x=0.01, ha="left")
        if subtitle:
            lat.set_title(_wrap(subtitle), loc="left", fontsize=9.5, color="#444444")
        _shade(lat, window, origin, label=True)
        _shade(err, window, origin, label=False)
        for name, points, color in (
            ("client p99", client, _COLORS["client"]),
            ("server p99", server, _COLORS["server"]),
        ):
            if points:
                xs, ys = _shift(points, origin)
                lat.plot(xs, ys, color=color, lw=1.8, label=name, marker="o" if len(xs) < 40 else None, ms=3)
        if client:
            _mark_peak(lat, client, origin, fmt_ms)
        p99_limit = limits.get("p99_ms")
        if p99_limit is not None:
            lat.axhline(
                p99_limit,
                color=_COLORS["threshold"],
                ls="--",
                lw=1.3,
                label=f"p99 threshold\n{fmt_ms(p99_limit)}",
            )
        lat.set_ylabel("p99 latency (ms)")
        lat.set_ylim(bottom=0, top=_top(lat))

        if errors:
            xs, ys = _shift(errors, origin)
            percent = [y * 100 for y in ys]
            err.plot(xs, percent, color=_COLORS["errors"], lw=1.8, label="error rate\n(5xx)")
            err.fill_between(xs, percent, color=_COLORS["errors"], alpha=0.15)
        rate_limit = limits.get("error_rate")
        if rate_limit is not None:
            err.axhline(
                rate_limit * 100,
                color=_COLORS["threshold"],
                ls="--",
                lw=1.3,
                label=f"error threshold\n{fmt_rate(rate_limit)}",
            )
        err.set_ylabel("error rate (%)")
        err.set_ylim(bottom=0, top=_top(err))
        err.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}%"))
        err.set_xlabel("seconds since fault start (T+s)" if window else "seconds since first sample")
        for ax in (lat, err):
            ax.grid(True, alpha=0.3)
            ax.spines[["top", "right"]].set_visible(False)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out
