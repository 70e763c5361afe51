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


class LocatedValueError(ValueError):
    """A cross-field check (duplicate id, unknown agency) that knows which item is wrong.

    pydantic reports a model-level validator's error at the model itself, i.e. line 1 of the file;
    raising this instead lets `dvcwatch.core.yamlconfig` point at the offending item's line and field.
    `loc` is relative to the model whose validator raised it, e.g. ("services", 3, "agency").
    """

    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc
