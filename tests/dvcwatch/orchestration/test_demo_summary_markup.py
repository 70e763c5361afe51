"""The demo's closing summary shows what the portal said as written: a failure message carrying Rich
markup neither raises nor disappears nor becomes a hyperlink."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from dvcwatch.commands.demo import print_summary
from dvcwatch.orchestration.demo import Demo

HOSTILE = "[/] cổng [link=http://evil.invalid/x]bấm[/link] [lowercase]"


def test_the_demo_summary_prints_portal_text_literally(tmp_path: Path) -> None:
    demo = Demo(tmp_path)
    result = {
        "service": "dang-ky-khai-sinh",
        "verdict": "fail",
        "failed_step": "submit",
        "failure": {"message": HOSTILE},
        "level_promised": "full",
        "level_delivered": None,
    }
    demo.findings.sweeps.append({"results": [result], "_dir": str(tmp_path)})
    demo.findings.problems.append(f"dang-ky-khai-sinh: {HOSTILE}")
    buf = io.StringIO()
    console = Console(file=buf, width=400, force_terminal=True, color_system=None)
    print_summary(console, demo.summary_dict(), demo)
    text = buf.getvalue()
    assert text.count(HOSTILE) == 2, text
    assert "\x1b]8;" not in text, "no terminal hyperlink"
