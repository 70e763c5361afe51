"""Portal text made safe for a terminal and a log: control characters and escape sequences removed.

A portal's message reaches the operator's terminal in shop's lines and summary. Rich markup is already
escaped; a terminal escape is not markup: OSC 52 writes the operator's clipboard, OSC 0 retitles the
window, CSI 2J clears the screen, and a log viewer replays them all. So escape sequences (CSI, OSC, DCS
and the like, 7-bit and 8-bit), C1 controls and every C0 control but newline and tab are removed from
any text that came from a portal before it is printed or logged; what the citizen read stays."""

from __future__ import annotations

import re

_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI … final byte (CSI 2J)
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC … BEL or ST (OSC 0, OSC 52)
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC … ST
    r"|\x1b[ -/]*[0-~]?"  # any other escape and its intermediates
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # 8-bit DCS, SOS, OSC, PM, APC
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(text: str) -> str:
    """`text` without escape sequences and control characters (newline and tab kept)."""
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))
