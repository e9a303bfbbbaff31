"""Writing the ECO annual-report figures: an HTML page with SVG charts, and a CSV.

Charts are drawn only from what may be published: a suppressed cell is drawn as an
empty bar labelled "<5", never at its true height.
"""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; set before pyplot is imported
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from .rendering import render_document
from .service.statistics import AnnualFigures, Table

STYLESHEET = """body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { text-align: left; padding: 0.3rem 0.8rem; border-bottom: 1px solid #888; }
img { max-width: 100%; }
"""


def _chart(table: Table, path: Path) -> None:
    labels = [table.labels.get(c.key, c.key) for c in table.cells]
    heights = [0 if c.suppressed else c.count for c in table.cells]
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.2))
    bars = axes.barh(labels, heights, color="#0b4f8a")
    for bar, cell in zip(bars, table.cells, strict=True):
        axes.annotate(
            cell.shown,
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
        )
    axes.invert_yaxis()
    axes.set_title(table.title)
    axes.set_xlabel(table.counts)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, format="svg", metadata={"Date": None})
    plt.close(figure)


def write_report(figures: AnnualFigures, out: Path) -> list[Path]:
    """Write report.html, report.css, figures.csv and one SVG chart per table into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    charts = []
    for n, table in enumerate(figures.tables, 1):
        chart = out / f"chart-{n}.svg"
        _chart(table, chart)
        charts.append(chart.name)
    (out / "report.css").write_text(STYLESHEET, encoding="utf-8")
    (out / "report.html").write_text(
        render_document("intake/annual_report.html", figures=figures, charts=charts), encoding="utf-8"
    )
    with open(out / "figures.csv", "w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target)
        writer.writerow(["table", "row", "value"])
        for name in (
            "received",
            "referred",
            "with_measures",
            "assessment_days_mean",
            "assessment_days_median",
            "concluded_within_30_days",
            "first_response_within_48_hours",
            "advice_received",
            "advice_answered_by_next_day",
            "advice_answered_within_two_days",
        ):
            writer.writerow(["summary", name, getattr(figures, name)])
        for table in figures.tables:
            for cell in table.cells:
                writer.writerow([table.title, table.labels.get(cell.key, cell.key), cell.shown])
    return [out / "report.html", out / "report.css", out / "figures.csv", *(out / c for c in charts)]
