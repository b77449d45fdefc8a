"""Tables and verdicts: what each benchmark prints, and what ``docs/benchmarks.md`` records."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of the values lie (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    """Return the median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class Claim:
    """One figure the issue asks for, its target, and whether this run met it (None: no target)."""

    measurement: str
    figure: str
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        """Say met, NOT met, or a dash when there is no target."""
        if self.met is None:
            return "-"
        return "met" if self.met else "NOT met"


@dataclass
class Table:
    """One benchmark's table: a title, column names, rows, notes, and the claims it supports."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        """Append a row."""
        self.rows.append(cells)

    def text(self) -> str:
        """Render as aligned plain text, as the benchmark prints it."""
        cells = [[str(cell) for cell in self.columns]] + [[str(cell) for cell in row] for row in self.rows]
        widths = [
            max(len(row[index]) for row in cells if index < len(row)) for index in range(len(self.columns))
        ]
        lines = [self.title, "=" * len(self.title)]
        for number, row in enumerate(cells):
            lines.append(
                "  ".join(
                    cell.ljust(widths[index]) if index == 0 else cell.rjust(widths[index])
                    for index, cell in enumerate(row)
                )
            )
            if number == 0:
                lines.append("  ".join("-" * width for width in widths))
        lines += [f"  {note}" for note in self.notes]
        for claim in self.claims:
            target = f" (target: {claim.target}: {claim.verdict})" if claim.target else ""
            lines.append(f"* {claim.measurement}: {claim.figure}{target}")
        return "\n".join(lines) + "\n"

    def markdown(self) -> str:
        """Render as a Markdown section."""
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(str(column) for column in self.columns) + " |")
        lines.append("|" + "|".join(" --- " for _ in self.columns) + "|")
        lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"{note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def summary_markdown(tables: Sequence[Table]) -> str:
    """Render every claim of every table as one Markdown table."""
    lines = ["| measurement | figure | target | met |", "| --- | --- | --- | --- |"]
    for table in tables:
        for claim in table.claims:
            lines.append(
                f"| {claim.measurement} | {claim.figure} | {claim.target or '-'} | {claim.verdict} |"
            )
    return "\n".join(lines) + "\n"
