"""Portal text loses every terminal escape and control character, and keeps what a person reads."""

from __future__ import annotations

import pytest

from dvcwatch.core.terminal_text import safe_text

CASES = [
    ("\x1b]52;c;ZXZpbA==\x07Lỗi", "Lỗi"),  # OSC 52, ended by BEL: the clipboard
    ("\x1b]0;pwned\x1b\\Lỗi", "Lỗi"),  # OSC 0, ended by ST: the window title
    ("\x1b[2J\x1b[1;31mLỗi\x1b[0m", "Lỗi"),  # CSI: clear screen, colours
    ("\x9b2J\x9d0;pwned\x9cLỗi", "Lỗi"),  # 8-bit CSI and OSC
    ("\x1bPq#0;2;0;0;0\x1b\\Lỗi", "Lỗi"),  # DCS (sixel)
    ("\x1b7\x1bcLỗi", "Lỗi"),  # save cursor, reset
    ("Lỗi\x07\x08\r\x00\x7f", "Lỗi"),  # bell, backspace, carriage return, NUL, DEL
    ("dòng 1\n\tdòng 2", "dòng 1\n\tdòng 2"),  # newline and tab stay
    ("\x1b]52;c;unterminated", ""),  # an OSC that never ends takes the rest with it
]


@pytest.mark.parametrize(("raw", "shown"), CASES)
def test_escapes_and_controls_are_removed(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown
