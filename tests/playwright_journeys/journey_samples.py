"""A made-up sweep with every kind of outcome, for tests of what is built from results (no browser)."""

from __future__ import annotations

from pathlib import Path

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.steps import steps_for
from playwright_journeys.results import (
    Artifacts,
    FailureInfo,
    RunResults,
    ServiceResult,
    StepResult,
    Target,
    summarize,
)

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

# service -> (verdict, failed_step, message, seen, http, level_delivered, reasons)
OUTCOMES = {
    "dang-ky-khai-sinh": ("fail", "submit", "no answer in 5 s", "", None, None, []),
    "cap-ho-chieu": (
        "fail",
        "payment",
        "the payment did not go through",
        "Giao dịch không thành công",
        None,
        None,
        [],
    ),
    "dang-ky-thuong-tru": ("fail", "upload", "the portal showed an error page", "Lỗi 503", 503, None, []),
    "cap-doi-gplx": ("degraded", None, "", "", None, "partial", ["level_shortfall"]),
    "dang-ky-ket-hon": ("degraded", None, "", "", None, "full", ["over_persona_budget"]),
    "cap-dien-moi": ("error", "form", "browser crashed: Target closed", "", None, None, []),
}


def sample_run(out_dir: Path, personas: tuple[str, ...] = ("desktop",)) -> RunResults:
    cat = load_catalog()
    results = []
    for persona in personas:
        for i, s in enumerate(cat.services):
            verdict, failed, msg, seen, http, delivered, reasons = OUTCOMES.get(
                s.id, ("pass", None, "", "", None, "full" if s.level == "full" else "partial", [])
            )
            names = steps_for(s.charges_fee)
            steps, t = [], 0.0
            reached = True
            for n in names:
                if not reached:
                    steps.append(StepResult(name=n, status="not_run"))
                    continue
                d = 5.0 if n == failed and "no answer" in msg else 0.4 + 0.1 * len(n)
                steps.append(
                    StepResult(
                        name=n,
                        status="failed" if n == failed else "passed",
                        duration_seconds=d,
                        started_seconds=t,
                    )
                )
                t += d
                if n == failed:
                    reached = False
            arts = Artifacts()
            if verdict == "fail":
                shot = Path("artifacts") / persona / f"{s.id}-attempt1.png"
                (out_dir / shot).parent.mkdir(parents=True, exist_ok=True)
                (out_dir / shot).write_bytes(PNG)
                arts = Artifacts(screenshot=str(shot))
            results.append(
                ServiceResult(
                    service=s.id,
                    name_vi=s.name_vi,
                    name_en=s.name_en,
                    agency=s.agency,
                    persona=persona,
                    verdict=verdict,
                    failed_step=failed,
                    failure=FailureInfo(message=msg, seen=seen, http_status=http) if msg else None,
                    level_promised=s.level,
                    level_advertised=s.level,
                    level_delivered=delivered,
                    degraded_reasons=reasons,
                    steps=steps,
                    dossier_code=None if verdict in ("fail", "error") else f"G22.99.08-261126-{i:06d}",
                    fee_promised=s.fee.amount,
                    duration_seconds=t,
                    submit_seconds=t * 0.8,
                    budget_seconds=60,
                    citizen_index=i,
                    artifacts=arts,
                )
            )
    return RunResults(
        started_at="2026-11-26T11:00:00+00:00",
        finished_at="2026-11-26T11:01:00+00:00",
        duration_seconds=60.0,
        target=Target(name="sandbox", base_url="http://127.0.0.1:8480", environment="sandbox"),
        vantage="test",
        personas=list(personas),
        summary=summarize(results),
        results=results,
    )
