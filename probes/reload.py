"""Reload the configuration on SIGHUP or when the file changes, keeping the old one if the new is bad.

A ward office's prober runs unattended; an operator who saves a broken file must not blind it. So a
reload validates the whole new file first (the same checks as on start), applies it only if it is
valid, and otherwise logs one clear line, counts `dvc_prober_config_reloads_total{result="failure"}` and
sets `dvc_prober_config_last_reload_successful` to 0 for an alert. An empty file or one without targets
(an editor truncating while saving) is rejected like any other invalid file.
The file is polled (size, mtime, content hash) rather than watched with inotify, which works on every
box and on network mounts.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from dvcwatch.core.errors import ConfigError
from probes.config import VANTAGE_RE, ProbeConfig, load_config
from probes.metrics import ProbeMetrics

log = logging.getLogger("dvcwatch.probes")


def with_vantage(config: ProbeConfig, vantage: str | None) -> ProbeConfig:
    """`--vantage` wins over the file, so one config can be copied to every ward unchanged."""
    if not vantage:
        return config
    if not VANTAGE_RE.match(vantage):
        raise ConfigError(f"--vantage {vantage!r}: use a lowercase slug like phuong-vinh-hung")
    return config.model_copy(update={"vantage": vantage})


class ConfigSource:
    def __init__(self, path: str | Path, vantage: str | None = None) -> None:
        self.path = Path(path)
        self.vantage_override = vantage
        self._fingerprint = b""

    def _read_fingerprint(self) -> bytes:
        try:
            return hashlib.sha256(self.path.read_bytes()).digest()
        except OSError:
            return b""

    def load(self) -> ProbeConfig:
        self._fingerprint = self._read_fingerprint()
        return with_vantage(load_config(self.path), self.vantage_override)

    def changed(self) -> bool:
        return self._read_fingerprint() != self._fingerprint


class Reloader:
    """Applies a new config through `apply` when it is valid; counts every attempt."""

    def __init__(
        self,
        source: ConfigSource,
        current: ProbeConfig,
        metrics: ProbeMetrics,
        apply: Callable[[ProbeConfig], None],
    ) -> None:
        self.source = source
        self.current = current
        self.metrics = metrics
        self.apply = apply
        self.last_error: str | None = None

    def reload(self, why: str) -> bool:
        try:
            new = self.source.load()
            if new.vantage != self.current.vantage:
                raise ConfigError(
                    f"vantage changed from {self.current.vantage!r} to {new.vantage!r}; restart the prober for that",
                    path=str(self.source.path),
                    field="vantage",
                )
        except ConfigError as exc:
            self.last_error = str(exc)
            self.metrics.reloads.labels(self.metrics.vantage, "failure").inc()
            self.metrics.config_loaded(False)
            log.error("config reload (%s) rejected, the previous config keeps running: %s", why, exc)
            return False
        self.current = new
        self.last_error = None
        self.apply(new)
        self.metrics.reloads.labels(self.metrics.vantage, "success").inc()
        self.metrics.config_loaded(True)
        log.info("config reloaded (%s): %d targets", why, len(new.targets))
        return True

    async def watch(self, stop: asyncio.Event, every: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
            except TimeoutError:
                pass
            if not stop.is_set() and self.source.changed():
                self.reload("file changed")
