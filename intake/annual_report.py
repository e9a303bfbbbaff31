"""Writing ECO's annual report: the internal report and the publication draft, each an HTML
page that prints to A4, an SVG chart and a CSV file per table, in one language.

Charts are SVG drawn from a template, so a browser or a word processor shapes the text:
Arabic reads right to left, and long labels are wrapped, never clipped. The draft's charts
are drawn only from what may be published: a withheld count is an outlined bar with its
"<5", never a bar of its true length.
"""

import csv
import textwrap
from dataclasses import dataclass
from pathlib import Path

from policies.text import N_

from . import i18n
from .rendering import render_document
from .service.statistics import AnnualReport, ReportTableFigures, percent

STYLESHEET = """@page { size: A4; margin: 18mm 16mm; }
body { font-family: "Noto Sans", "DejaVu Sans", sans-serif; font-size: 10.5pt; color: #1b1b1b; }
body { max-width: 48rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 17pt; margin-bottom: 0.3rem; }
h2 { font-size: 13pt; margin-top: 1.6rem; break-after: avoid; }
.mark { border: 2px solid #8a0b0b; color: #8a0b0b; padding: 0.5rem 0.8rem; font-weight: bold; }
.draft { border-color: #0b4f8a; color: #0b4f8a; }
section { break-inside: avoid; }
table { border-collapse: collapse; margin: 0.6rem 0; width: 100%; }
th, td { text-align: start; padding: 0.25rem 0.5rem; border-bottom: 1px solid #999; vertical-align: top; }
td.n { text-align: end; white-space: nowrap; font-variant-numeric: tabular-nums; }
img { width: 100%; height: auto; }
.note, .source { font-size: 9pt; color: #444; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
@media screen and (max-width: 30rem) { body { padding: 0 0.25rem; } th, td { padding: 0.2rem 0.25rem; } }
"""
SHARE = N_("Share of the total")
WIDTH, LABEL_WIDTH, LINE, PAD = 720, 380, 16, 8
WRAP = 48  # characters of a label line at 13 px in the label column


@dataclass(frozen=True)
class Bar:
    lines: list[str]
    y: int
    height: int
    x: int
    width: int
    value: str
    value_x: int
    withheld: bool


def _bars(table: ReportTableFigures, publication: bool, lang: str) -> tuple[list[Bar], int]:
    """Where each row's label, bar and value go; the chart's height."""
    rtl = lang in i18n.RIGHT_TO_LEFT
    values = [r.count if not publication or r.shown.isdigit() else 0 for r in table.rows]
    longest = max([*values, 1])
    scale = (WIDTH - LABEL_WIDTH - 3 * PAD - 40) / longest
    bars, y = [], PAD
    for row, value in zip(table.rows, values, strict=True):
        lines = textwrap.wrap(i18n.gettext(lang, row.label), WRAP) or [""]
        height = max(2 * LINE, LINE * len(lines) + 6)
        shown = row.shown if publication else str(row.count)
        withheld = publication and not row.shown.isdigit()
        width = round(value * scale) if not withheld else 24
        x = WIDTH - LABEL_WIDTH - 2 * PAD - width if rtl else LABEL_WIDTH + 2 * PAD
        value_x = x - 6 if rtl else x + width + 6
        bars.append(Bar(lines, y, height, x, width, shown, value_x, withheld))
        y += height + 4
    return bars, y + PAD


def _chart(table: ReportTableFigures, report: AnnualReport, lang: str) -> str:
    bars, height = _bars(table, report.publication, lang)
    rtl = lang in i18n.RIGHT_TO_LEFT
    return render_document(
        "intake/annual_chart.svg",
        lang,
        table=table,
        year=report.year,
        bars=bars,
        empty=not any(r.count for r in table.rows),
        width=WIDTH,
        height=height if any(r.count for r in table.rows) else 48,
        label_x=WIDTH - PAD if rtl else PAD,
        line=LINE,
    )


def _share(row_count: int, total: int) -> str:
    return percent(row_count, total) if total else ""


def _csv(table: ReportTableFigures, report: AnnualReport, lang: str, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target)
        year, before = str(report.year), str(report.year - 1)
        share = i18n.gettext(lang, SHARE)
        writer.writerow([i18n.gettext(lang, table.spec.title), year, *([share] if table.partition else []), before])
        for row in table.rows:
            now = row.shown if report.publication else str(row.count)
            then = row.previous_shown if report.publication else str(row.previous)
            cells = [i18n.gettext(lang, row.label), now]
            if table.partition:
                cells.append(_share(row.count, table.total) if now.isdigit() and row.count else "")
            writer.writerow([*cells, then])


def write_report(report: AnnualReport, out: Path, lang: str = i18n.DEFAULT, withheld: list | None = None) -> list[Path]:
    """Write report.html, report.css, summary.csv, and <table>.svg and <table>.csv per table into `out`.

    `withheld` (the draft's cells withheld, and why) is listed in the internal report only: in the
    draft, "a count from 1 to 4" beside one withheld cell and "withheld to protect another" beside
    the next would tell a reader more than the "suppressed" both show (#24 item 13).
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in report.tables:
        chart = out / f"{table.spec.id}.svg"
        chart.write_text(_chart(table, report, lang), encoding="utf-8")
        _csv(table, report, lang, out / f"{table.spec.id}.csv")
        written += [chart, out / f"{table.spec.id}.csv"]
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target)
        writer.writerow(["", str(report.year), str(report.year - 1)])
        for figure in report.summary:
            writer.writerow([i18n.gettext(lang, figure.label), figure.value, figure.previous])
    (out / "report.css").write_text(STYLESHEET, encoding="utf-8")
    (out / "report.html").write_text(
        render_document("intake/annual_report.html", lang, report=report, share=_share, withheld=withheld), encoding="utf-8"
    )
    return [out / "report.html", out / "report.css", out / "summary.csv", *written]


def write_both(internal: AnnualReport, publication: AnnualReport, out: Path, lang: str = i18n.DEFAULT) -> list[Path]:
    """The internal report in out/internal, the publication draft in out/publication."""
    inside = write_report(internal, out / "internal", lang, withheld=publication.withheld())
    return inside + write_report(publication, out / "publication", lang)
