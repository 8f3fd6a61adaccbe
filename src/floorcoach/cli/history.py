"""`floorcoach history` and `floorcoach export`: progress over weeks, and a file for the physio."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from floorcoach.store.history_reports import exercise_stats, export_data
from floorcoach.store.history_rows import (
    DONE_OUTCOMES,
    HISTORY_ENV,
    HistorySnapshot,
    default_history_path,
)
from floorcoach.store.history_store import HistoryStore

_LOGGER = logging.getLogger(__name__)

MAX_WEEK_COLUMNS: Final = 8
"""The per-exercise table shows the latest weeks only, so it fits an 100-column terminal."""
CSV_COLUMNS: Final = (
    "record",
    "session_id",
    "date",
    "time",
    "routine",
    "status",
    "minutes",
    "next_day_feeling",
    "item_index",
    "exercise",
    "done_as",
    "outcome",
    "hold_seconds",
    "reps",
    "units_done",
    "units_planned",
    "pain_level",
    "pain_location",
    "red_flag",
)


def register(subparsers: Any) -> None:
    """Add the history and export subcommands."""
    db_help = f"history file (default: ${HISTORY_ENV}, else {default_history_path()})"
    history = subparsers.add_parser(
        "history",
        help="show sessions, minutes, completion and pain over time",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Print the session history as tables; optionally draw it to a PNG.",
    )
    history.add_argument("--db", type=Path, help=db_help)
    history.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="also draw pain and completion per week (needs: pip install matplotlib)",
    )
    history.set_defaults(func=_history)
    export = subparsers.add_parser(
        "export",
        help="write the history as CSV or JSON (for a physiotherapist)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description=(
            "CSV: one row per session, exercise outcome, pain report and warning sign, with a "
            "'record' column saying which. JSON: every table in full."
        ),
    )
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="file format")
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    export.add_argument("--db", type=Path, help=db_help)
    export.set_defaults(func=_export)


# ---------------------------------------------------------------- handlers


def _read(db: Path | None) -> tuple[Path, HistorySnapshot | None]:
    """The snapshot, or None when there is no file yet (reading never creates one)."""
    path = db or default_history_path()
    if not path.exists():
        return path, None
    with HistoryStore(path) as store:
        return path, store.snapshot()


def _history(args: argparse.Namespace) -> int:
    path, snapshot = _read(args.db)
    if snapshot is None or not snapshot.sessions:
        print(f"No sessions recorded yet ({path}).")
        return 0
    print(render_history(snapshot, path), end="")
    if args.plot is not None:
        return _plot(snapshot, args.plot)
    return 0


def _export(args: argparse.Namespace) -> int:
    path, snapshot = _read(args.db)
    if snapshot is None:
        print(f"floorcoach: no history file at {path}", file=sys.stderr)
        return 1
    text = export_json(snapshot) if args.format == "json" else export_csv(snapshot)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"Wrote {len(snapshot.sessions)} sessions to {args.output}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- tables


@dataclass(frozen=True)
class WeekCell:
    """One exercise in one week: how often it was done, and the worst pain reported."""

    done: int
    planned: int
    max_pain: int | None

    def text(self) -> str:
        """'100% p3' style: completion, then the highest pain ('-' when none)."""
        percent = f"{round(100 * self.done / self.planned)}%" if self.planned else "-"
        pain = "-" if self.max_pain is None else str(self.max_pain)
        return f"{percent} p{pain}"


def week_of(day: date, first: date) -> int:
    """Week number counted from the first session (week 1 = its first seven days)."""
    return (day - first).days // 7 + 1


def weekly_table(snapshot: HistorySnapshot) -> dict[str, dict[int, WeekCell]]:
    """exercise -> week -> cell, over every recorded session."""
    if not snapshot.sessions:
        return {}
    first = min(s.started_at for s in snapshot.sessions).date()
    week_by_session = {s.id: week_of(s.started_at.date(), first) for s in snapshot.sessions}
    done: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in snapshot.outcomes:
        week = week_by_session.get(row.session_id)
        if week is None:
            continue
        counts = done[(row.exercise_id, week)]
        counts[1] += 1
        counts[0] += row.outcome in DONE_OUTCOMES
    pain: dict[tuple[str, int], int] = {}
    for report in snapshot.pains:
        week = week_by_session.get(report.session_id)
        key_id = report.item_exercise_id or report.exercise_id
        if week is None or key_id is None:
            continue
        pain[(key_id, week)] = max(pain.get((key_id, week), 0), report.level)
    table: dict[str, dict[int, WeekCell]] = defaultdict(dict)
    for key in set(done) | set(pain):
        exercise, week = key
        made, planned = done.get(key, [0, 0])
        table[exercise][week] = WeekCell(made, planned, pain.get(key))
    return dict(table)


_NUMERIC: Final = re.compile(r"^[\d.\-/%]*( p[\d-]+)?$")


def _format_rows(header: list[str], rows: Iterable[list[str]]) -> str:
    """Columns padded to fit; numbers right-aligned, words left-aligned."""
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    numeric = [
        all(_NUMERIC.match(line[i]) for line in lines[1:]) and i > 0 for i in range(len(header))
    ]
    out = []
    for line in lines:
        cells = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(line, widths, numeric, strict=True)
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def render_history(snapshot: HistorySnapshot, path: Path | str = "") -> str:
    """The `history` report: sessions, per-exercise totals, and exercise by week."""
    total_minutes = sum(s.minutes for s in snapshot.sessions)
    out = io.StringIO()
    out.write(f"History {path}: {len(snapshot.sessions)} sessions, {total_minutes:.0f} minutes\n\n")
    worst: dict[int, int] = {}
    for report in snapshot.pains:
        worst[report.session_id] = max(worst.get(report.session_id, 0), report.level)
    per_session: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in snapshot.outcomes:
        per_session[row.session_id][1] += 1
        per_session[row.session_id][0] += row.outcome in DONE_OUTCOMES
    flagged = {flag.session_id for flag in snapshot.red_flags}
    out.write("Sessions\n")
    rows = []
    for s in snapshot.sessions:
        made, planned = per_session.get(s.id, [0, 0])
        rows.append(
            [
                s.started_at.strftime("%Y-%m-%d %H:%M"),
                s.routine_id,
                s.status + (" (!)" if s.id in flagged else ""),
                f"{s.minutes:.1f}",
                f"{made}/{planned}",
                str(worst[s.id]) if s.id in worst else "-",
                s.next_day_feeling or "-",
            ]
        )
    out.write(
        _format_rows(
            ["started", "routine", "status", "minutes", "done", "max pain", "next day"], rows
        )
    )
    out.write("\nPer exercise\n")
    stat_rows = [
        [
            st.exercise_id,
            str(st.sessions),
            f"{round(100 * st.completion)}%",
            str(st.eased),
            str(st.skipped),
            str(st.pain_reports),
            "-" if st.max_pain is None else str(st.max_pain),
            "-" if st.mean_pain is None else f"{st.mean_pain:.1f}",
        ]
        for st in exercise_stats(snapshot)
    ]
    out.write(
        _format_rows(
            ["exercise", "sessions", "done", "eased", "skipped", "pain reports", "max", "mean"],
            stat_rows,
        )
    )
    table = weekly_table(snapshot)
    weeks = sorted({week for cells in table.values() for week in cells})[-MAX_WEEK_COLUMNS:]
    if weeks:
        out.write("\nBy week (done %, highest pain p0-p10)\n")
        week_rows = [
            [exercise, *(cells[w].text() if w in cells else "" for w in weeks)]
            for exercise, cells in sorted(table.items())
        ]
        out.write(_format_rows(["exercise", *(f"week {w}" for w in weeks)], week_rows))
    return out.getvalue()


# ---------------------------------------------------------------- export


def export_json(snapshot: HistorySnapshot) -> str:
    """Every table, as JSON."""
    return json.dumps(export_data(snapshot), indent=2, ensure_ascii=False) + "\n"


def export_csv(snapshot: HistorySnapshot) -> str:
    """One flat table a spreadsheet opens: a 'record' column says what each row is."""
    sessions = {s.id: s for s in snapshot.sessions}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()

    def base(session_id: int, record: str, moment: datetime) -> dict[str, Any]:
        session = sessions.get(session_id)
        return {
            "record": record,
            "session_id": session_id,
            "date": moment.date().isoformat(),
            "time": moment.strftime("%H:%M:%S"),
            "routine": session.routine_id if session else "",
        }

    for s in snapshot.sessions:
        writer.writerow(
            {
                **base(s.id, "session", s.started_at),
                "status": s.status,
                "minutes": f"{s.minutes:.1f}",
                "next_day_feeling": s.next_day_feeling or "",
            }
        )
    for o in snapshot.outcomes:
        writer.writerow(
            {
                **base(o.session_id, "exercise", o.recorded_at),
                "item_index": o.item_index,
                "exercise": o.exercise_id,
                "done_as": o.done_as or "",
                "outcome": o.outcome,
                "hold_seconds": "" if o.hold_seconds is None else f"{o.hold_seconds:g}",
                "reps": "" if o.reps is None else o.reps,
                "units_done": "" if o.units_done is None else o.units_done,
                "units_planned": "" if o.units_planned is None else o.units_planned,
            }
        )
    for p in snapshot.pains:
        writer.writerow(
            {
                **base(p.session_id, "pain", p.recorded_at),
                "item_index": "" if p.item_index is None else p.item_index,
                "exercise": p.item_exercise_id or p.exercise_id or "",
                "done_as": p.exercise_id if p.exercise_id != p.item_exercise_id else "",
                "pain_level": p.level,
                "pain_location": p.location or "",
            }
        )
    for f in snapshot.red_flags:
        writer.writerow(
            {
                **base(f.session_id, "red_flag", f.recorded_at),
                "exercise": f.exercise_id or "",
                "red_flag": f.flag,
            }
        )
    return out.getvalue()


# ---------------------------------------------------------------- plot


def _plot(snapshot: HistorySnapshot, target: Path) -> int:
    """Pain and completion per week as a PNG; matplotlib is an optional extra."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            "floorcoach: --plot needs matplotlib, which is not installed; "
            "install it with: pip install matplotlib",
            file=sys.stderr,
        )
        return 1
    weeks, completion, mean_pain, max_pain = weekly_series(snapshot)
    figure, (pain_axes, done_axes) = plt.subplots(2, 1, sharex=True, figsize=(8, 6))
    pain_axes.plot(weeks, mean_pain, marker="o", label="mean pain")
    pain_axes.plot(weeks, max_pain, marker="^", linestyle="--", label="highest pain")
    pain_axes.set_ylim(0, 10)
    pain_axes.set_ylabel("pain (0-10)")
    pain_axes.legend()
    done_axes.bar(weeks, completion)
    done_axes.set_ylim(0, 100)
    done_axes.set_ylabel("exercises done (%)")
    done_axes.set_xlabel("week")
    done_axes.set_xticks(weeks)  # whole weeks only
    figure.suptitle("floorcoach: pain and completion by week")
    figure.savefig(target)
    plt.close(figure)
    print(f"Wrote {target}", file=sys.stderr)
    return 0


def weekly_series(
    snapshot: HistorySnapshot,
) -> tuple[list[int], list[float], list[float | None], list[int | None]]:
    """Per week: completion %, mean and highest pain (None: no pain reported)."""
    if not snapshot.sessions:
        return [], [], [], []
    first = min(s.started_at for s in snapshot.sessions).date()
    week_by_session = {s.id: week_of(s.started_at.date(), first) for s in snapshot.sessions}
    last = max(week_by_session.values())
    weeks = list(range(1, last + 1))
    done = dict.fromkeys(weeks, 0)
    planned = dict.fromkeys(weeks, 0)
    for row in snapshot.outcomes:
        week = week_by_session[row.session_id]
        planned[week] += 1
        done[week] += row.outcome in DONE_OUTCOMES
    levels: dict[int, list[int]] = defaultdict(list)
    for report in snapshot.pains:
        levels[week_by_session[report.session_id]].append(report.level)
    completion = [100 * done[w] / planned[w] if planned[w] else 0.0 for w in weeks]
    mean_pain = [sum(levels[w]) / len(levels[w]) if levels[w] else None for w in weeks]
    max_pain = [max(levels[w]) if levels[w] else None for w in weeks]
    return weeks, completion, mean_pain, max_pain
