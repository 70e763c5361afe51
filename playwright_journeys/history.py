"""A sweep's results as history rows (`dvcwatch.core.history_store`), from a live sweep or an old
`results.json`: the same function for both, so an imported week reads exactly like a recorded one.

Evidence paths (scorecard, screenshot) are stored absolute: the report that links them is written
elsewhere, weeks later.
"""

from __future__ import annotations

from pathlib import Path

from dvcwatch.core.history_store import HistoryLocation, HistoryStore, JourneyRow, parse_due_date
from playwright_journeys.results import RunResults, ServiceResult, read_results


def result_mode(r: ServiceResult) -> str | None:
    """How the journey's own result step got the result, if it did (the sandbox answers in seconds;
    a real portal takes days, and `follow-up` looks later). The step says it in its detail: an
    electronic copy, or the office's words with the level delivered set to partial; anything else
    (not ready yet, skipped, an old sweep without details) leaves the dossier to be followed."""
    step = next((s for s in r.steps if s.name == "result" and s.status == "passed"), None)
    if step is None or step.detail.startswith("result not ready"):
        return None
    if step.detail.startswith("electronic copy"):
        return "download"
    return "in_person" if r.level_delivered == "partial" and step.detail else None


def rows_from_run(run: RunResults, out_dir: Path) -> list[JourneyRow]:
    """One row per journey; `out_dir` is the folder of the run's results.json and scorecard.html."""
    base = out_dir.resolve()
    scorecard = base / "scorecard.html"
    rows = []
    for r in run.results:
        shot = r.artifacts.screenshot
        rows.append(
            JourneyRow(
                at=run.started_at,
                portal=run.target.name,
                environment=run.target.environment,
                vantage=run.vantage,
                persona=r.persona,
                service=r.service,
                name_vi=r.name_vi,
                name_en=r.name_en,
                verdict=r.verdict,
                duration_seconds=r.duration_seconds,
                failed_step=r.failed_step,
                failure=r.failure.message if r.failure else None,
                submit_seconds=r.submit_seconds,
                steps={
                    s.name: round(s.duration_seconds, 3) for s in r.steps if s.status in ("passed", "failed")
                },
                level_promised=r.level_promised,
                level_delivered=r.level_delivered,
                dossier_code=r.dossier_code,
                due_date=parse_due_date(r.expected_date),
                result_mode=result_mode(r),
                scorecard=str(scorecard) if scorecard.exists() else None,
                screenshot=str((base / shot).resolve()) if shot else None,
                journey_id=r.journey_id or "",
            )
        )
    return rows


def record_run(store_path: str | Path | HistoryLocation, run: RunResults, out_dir: Path) -> int:
    """Append a finished sweep to the history at `store_path` (a path or URL); returns the number of
    new rows."""
    with HistoryStore.open(store_path) as store:
        return store.add_journeys(rows_from_run(run, out_dir))


def import_results(store: HistoryStore, paths: list[str]) -> list[tuple[Path, int, int]]:
    """Old sweeps' results.json (files or folders) into the store: (file, journeys, new rows) each.
    Importing the same file twice adds nothing the second time."""
    done = []
    for p in paths:
        path = Path(p)
        folder = path if path.is_dir() else path.parent
        run = read_results(path)
        rows = rows_from_run(run, folder)
        done.append((folder / "results.json" if path.is_dir() else path, len(rows), store.add_journeys(rows)))
    return done
