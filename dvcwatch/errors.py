"""Errors a user can act on.

Every configuration problem becomes one `ConfigError` whose message names the file, the line (when
known), the field and what was expected, so the CLI can print one line and exit 2 without a traceback.
"""

from __future__ import annotations


class DvcwatchError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits with `exit_code`."""

    exit_code = 2


class ConfigError(DvcwatchError):
    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.detail = message
        where = ""
        if path:
            where = f"{path}:{line}" if line else str(path)
        if field:
            where = f"{where}: {field}" if where else field
        super().__init__(f"{where}: {message}" if where else message)


class UnknownServiceError(ConfigError):
    """A service id that is not in the catalog; the message lists the close matches."""
