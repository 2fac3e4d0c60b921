"""The report's figures (the evidence map, the timeline) as SVG and PNG bytes, drawn with matplotlib.

Each figure is drawn at the width Word places it (``WIDTH_IN``), so that no text is smaller in print than
``SMALLEST_PT``; the SVG is written without dates or random ids (same data, same bytes).
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

WIDTH_IN = 6.5  # the A4 text width between 2 cm margins is 6.7 in: placed at 100%, never scaled down
SMALLEST_PT = 8  # no text in a figure smaller than this at the size it is printed
DPI = 150


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "review"
    matplotlib.rcParams["font.size"] = SMALLEST_PT
    return plt


def _saved(fig: Any, fmts: tuple[str, ...]) -> dict[str, bytes]:
    """A figure in each format, without a date or the software's name inside (same figure, same bytes)."""
    out = {}
    for fmt in fmts:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata={"Date": None, "Creator": None} if fmt == "svg" else {"Software": None},
                    dpi=DPI)
        out[fmt] = buffer.getvalue()
    return out


def _drawn(fig: Any, fmts: tuple[str, ...]) -> dict[str, bytes]:
    drawn = _saved(fig, fmts)
    _pyplot().close(fig)
    return drawn


def smallest_text_pt(fig: Any) -> float:
    """The smallest font size of any text shown in ``fig`` (tick labels, titles, notes, legends)."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes, default=float(SMALLEST_PT))


def _wrapped(label: str, width: int = 30) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _fitted(label: str, width_pt: float, size: float = SMALLEST_PT) -> str:
    """``label`` wrapped at word boundaries into lines no wider than ``width_pt`` points at ``size`` points, as
    matplotlib's default font measures them (a legend entry's text is never clipped at the figure's edge)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measure = TextToPath()
    font = FontProperties(size=size)
    lines: list[str] = []
    for word in label.split():
        wider = f"{lines[-1]} {word}" if lines else word
        if lines and measure.get_text_width_height_descent(wider, font, ismath=False)[0] <= width_pt:
            lines[-1] = wider
        else:
            lines.append(word)
    return "\n".join(lines) or label


def evidence_map_svg(counts: pd.DataFrame, title: str) -> str:
    """A key x code heatmap as SVG text: every row and column the codebook has, labelled; a cell with no
    evidence is a grey gap; the scale counts whole studies (no date or random ids inside: same bytes)."""
    return _drawn(evidence_map_figure(counts, title), ("svg",))["svg"].decode("utf-8")


def evidence_map_png(counts: pd.DataFrame, title: str) -> bytes:
    """The same figure as PNG, for Word (which shows no SVG everywhere)."""
    if counts.empty:
        return b""
    return _drawn(evidence_map_figure(counts, title), ("png",))["png"]


def evidence_map(counts: pd.DataFrame, title: str) -> tuple[str, bytes]:
    """Both at once (the figure drawn once: matplotlib's layout is most of the time)."""
    if counts.empty:
        return "", b""
    drawn = _drawn(evidence_map_figure(counts, title), ("svg", "png"))
    return drawn["svg"].decode("utf-8"), drawn["png"]


def evidence_map_figure(counts: pd.DataFrame, title: str) -> Any:
    """The evidence map as a matplotlib figure, ``WIDTH_IN`` wide, its labels wrapped to fit at 8 pt."""
    import numpy as np
    from matplotlib.colors import BoundaryNorm, ListedColormap

    plt = _pyplot()
    values = counts.to_numpy(dtype=float) if not counts.empty else np.zeros((1, 1))
    top = max(1, int(values.max()))
    # one shade per whole number of studies, the lightest still clearly apart from the grey of a gap
    cmap = ListedColormap(plt.get_cmap("Blues")(np.linspace(0.35, 0.95, top))).with_extremes(bad="#e8e8e8")
    norm = BoundaryNorm(np.arange(0.5, top + 1.5), cmap.N)
    columns = [_wrapped(str(c), 24) for c in counts.columns]
    longest = max((len(line) for c in columns for line in c.split("\n")), default=1)
    height = 0.22 * len(counts.index) + 0.06 * longest + 1.0  # rows, the column labels turned upright, title
    fig, ax = plt.subplots(figsize=(WIDTH_IN, max(3.0, height)))
    image = ax.imshow(np.ma.masked_equal(values, 0), cmap=cmap, norm=norm, aspect="auto")
    ax.set_xticks(range(len(counts.columns)), columns, rotation=90, fontsize=SMALLEST_PT)
    ax.set_yticks(range(len(counts.index)), [_wrapped(str(i), 44) for i in counts.index], fontsize=SMALLEST_PT)
    for (i, j), value in np.ndenumerate(values):
        if value:
            ax.text(j, i, str(int(value)), ha="center", va="center",
                    color="white" if value > top / 2 or top == 1 else "black", fontsize=SMALLEST_PT)
    ax.set_title(title, fontsize=10)
    colorbar = fig.colorbar(image, ax=ax, ticks=range(1, top + 1), label="studies", fraction=0.04, pad=0.02)
    colorbar.ax.tick_params(labelsize=SMALLEST_PT)
    colorbar.set_label("studies", fontsize=SMALLEST_PT)
    fig.text(0.01, 0.005, "Grey: no study extracted yet gives evidence for this cell.", fontsize=SMALLEST_PT)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    return fig


@dataclass
class TimelineLayout:
    """What the timeline shows beside the periods: its panels (titles and the key codes in each; a code in
    no panel goes to a last, untitled one), the eras marked (a year, or a span), and the year a period
    that still runs is drawn to (the report's date)."""

    panels: list[tuple[str, list[str]]] = field(default_factory=list)
    eras: list[dict[str, Any]] = field(default_factory=list)
    until: float | None = None  # a fractional year; None: the year after the latest the codebook names


def timeline(periods: pd.DataFrame, fmt: str = "svg", layout: TimelineLayout | None = None) -> bytes:
    """The key periods as bars from their first to their last year (an arrow for one that still runs),
    blue where studies give evidence and grey where none is extracted yet, with a legend."""
    if periods.empty:
        return b""
    return _drawn(timeline_figure(periods, layout), (fmt,))[fmt]


def timelines(periods: pd.DataFrame, layout: TimelineLayout | None = None) -> tuple[str, bytes]:
    """The timeline as SVG text and as PNG, drawn once."""
    if periods.empty:
        return "", b""
    drawn = _drawn(timeline_figure(periods, layout), ("svg", "png"))
    return drawn["svg"].decode("utf-8"), drawn["png"]


def _panels(periods: pd.DataFrame, layout: TimelineLayout) -> list[tuple[str, pd.DataFrame]]:
    """The rows of each panel in time order (first year, then last, a running one last)."""
    frame = periods.assign(end_=[9999 if str(v) == "present" else int(v) for v in periods["to"]],
                           start_=[int(v) for v in periods["from"]], order_=range(len(periods)))
    key = frame.columns[0]
    placed: set[str] = set()
    out = []
    for title, codes in layout.panels:
        rows = frame[frame[key].isin(codes)]
        placed.update(codes)
        if not rows.empty:
            out.append((title, rows))
    rest = frame[~frame[key].isin(placed)]
    if not rest.empty:
        out.append(("" if not out else "Other", rest))
    return [(title, rows.sort_values(["start_", "end_", "order_"])) for title, rows in out]


def timeline_figure(periods: pd.DataFrame, layout: TimelineLayout | None = None) -> Any:
    """The timeline as a matplotlib figure, ``WIDTH_IN`` wide: one panel per group of key codes."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt = _pyplot()
    layout = layout or TimelineLayout()
    panels = _panels(periods, layout)
    starts = [int(v) for v in periods["from"]]
    ends = [int(v) for v in periods["to"] if str(v) != "present"]
    until = layout.until if layout.until is not None else max([*starts, *ends]) + 1
    sizes = [len(rows) for _, rows in panels]
    # an era's label wrapped to the figure's width less the legend's marker and padding (about 4 em)
    era_labels = [_fitted(f"{number}: {era['label']}", WIDTH_IN * 72 - 4.5 * SMALLEST_PT)
                  for number, era in enumerate(layout.eras, 1)]
    legend_rows = 3 + sum(label.count("\n") + 1 for label in era_labels)
    legend_in = 0.17 * legend_rows + 0.15
    height = 0.23 * sum(sizes) + 0.4 * len(panels) + legend_in + 0.5
    fig, axes = plt.subplots(len(panels), 1, figsize=(WIDTH_IN, height), sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": [max(n, 1) + 0.8 for n in sizes]})
    blue, grey, edge = "#2f5597", "#d0d0d0", "#9a9a9a"
    left = min(starts) - 2
    for ax, (title, rows) in zip(axes[:, 0], panels):
        for era in layout.eras:
            if era.get("to") is not None:
                ax.axvspan(era["from"], era["to"], color="#f3e6c4", zorder=0, lw=0)
            else:
                ax.axvline(era["from"], color="#b8860b", ls="--", lw=0.9, zorder=1)
        for row, (studies, running, start, last) in enumerate(zip(
                rows["studies"].astype(str), rows["to"].astype(str) == "present", rows["start_"], rows["end_"])):
            has = studies.isdigit() and int(studies) > 0
            end = until if running else int(last)
            ax.barh(row, max(end - start, 0.4), left=start, height=0.62, color=blue if has else grey,
                    edgecolor=blue if has else edge, lw=0.6, zorder=2)
            if running:
                ax.annotate("", xy=(until + 2.5, row), xytext=(until, row), zorder=3,
                            arrowprops={"arrowstyle": "->", "color": blue if has else edge, "lw": 1})
            if has:
                ax.text(end + (3.2 if running else 0.8), row,
                        f"{studies} {'study' if studies == '1' else 'studies'}", va="center",
                        fontsize=SMALLEST_PT, color="#333333")
        ax.set_yticks(range(len(rows)), [_wrapped(str(v), 52) for v in rows["label"]], fontsize=SMALLEST_PT)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.grid(axis="x", color="#eeeeee", zorder=0)
        ax.set_axisbelow(True)
        if title:
            ax.set_title(title, fontsize=9, loc="left", fontweight="bold")
    top = axes[0, 0]
    for number, era in enumerate(layout.eras, 1):  # numbered above the top panel, explained in the legend
        middle = (era["from"] + era["to"]) / 2 if era.get("to") is not None else era["from"]
        top.text(middle, -0.5, str(number), ha="center", va="bottom", fontsize=SMALLEST_PT, fontweight="bold",
                 color="#7a5a00")
    bottom = axes[-1, 0]
    bottom.set_xlim(left, until + 16)  # room for the counts written after each bar
    bottom.set_xticks(range(10 * -(-min(starts) // 10), int(until) + 1, 10))  # no year after the report's
    first_year = min(starts)
    bottom.tick_params(axis="x", labelsize=SMALLEST_PT)
    handles = [Patch(facecolor=blue, edgecolor=blue, label="studies extracted (their number after the bar)"),
               Patch(facecolor=grey, edgecolor=edge, label="no study extracted yet"),
               Line2D([], [], color="#333333", marker=">", lw=1, label="still exists at the report's date")]
    for era, label in zip(layout.eras, era_labels):
        span = era.get("to") is not None
        handles.append(Patch(facecolor="#f3e6c4", label=label) if span
                       else Line2D([], [], color="#b8860b", ls="--", label=label))
    fig.legend(handles=handles, loc="lower left", ncol=1, fontsize=SMALLEST_PT, frameon=False,
               bbox_to_anchor=(0.0, 0.0))
    fig.tight_layout(rect=(0, legend_in / height, 1, 1))
    _room_for_counts(fig, axes[:, 0], left, first_year, until)
    return fig


def _room_for_counts(fig: Any, axes: Any, left: float, first_year: int, until: float) -> None:
    """The time axis run on far enough that the counts written after the bars end inside the panels, as the
    renderer measures them (the panels' width is fixed by the layout; only the years they span change), with
    a year labelled every 10 years, or every 20, 25 or 50 where the labels would touch."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    right = axes[-1].get_xlim()[1]
    width = axes[-1].get_window_extent(renderer).width
    needed = right
    for ax in axes:
        for text in ax.texts:
            if text.get_text().endswith(("study", "studies")):
                share = (text.get_window_extent(renderer).width + 4) / width  # and 4 px to the frame
                needed = max(needed, (text.get_position()[0] - left * share) / (1 - share))
    axes[-1].set_xlim(left, needed)
    label = max(t.get_window_extent(renderer).width for t in axes[-1].get_xticklabels())
    years = (label + 6) * (needed - left) / width  # the years one label and a gap take up
    step = next((s for s in (10, 20, 25, 50) if s >= years), 100)
    axes[-1].set_xticks(range(step * -(-first_year // step), int(until) + 1, step))
