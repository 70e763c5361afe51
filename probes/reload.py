"""Reload the configuration on SIGHUP or when the file changes, keeping the old one if the new is bad.

A ward office's prober runs unattended; an operator who saves a broken file must not blind it. So a
reload validates the whole new file first (the same checks as on start), applies it only if it is
valid, and otherwise logs one clear line, counts `dvc_prober_config_reloads_total{result="failure"}` and
sets `dvc_prober_config_last_reload_successful` to 0 for an alert. An empty file or one without targets
(an editor truncating while saving) is rejected like any other invalid file.
The file is polled (its content hash) rather than watched with inotify, which works on every box and
on network mounts. Reading, hashing and parsing run in a worker thread, one reload at a time, so a big
file never stops `/metrics` and `/-/healthy` from answering; a FIFO, a device or an oversized file is
refused before it is read (`dvcwatch.core.inputfile`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.inputfile import read_input_bytes
from probes.config import VANTAGE_RE, ProbeConfig, load_config_bytes
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

    def _read(self) -> tuple[bytes, bytes | ConfigError]:
        """(fingerprint, content or why it cannot be read): an unreadable file has a fingerprint
        too, its reason, so it is reported once, not every poll."""
        try:
            raw = read_input_bytes(self.path)
        except ConfigError as exc:
            return hashlib.sha256(str(exc).encode()).digest(), exc
        return hashlib.sha256(raw).digest(), raw

    def load(self) -> ProbeConfig:
        """Blocking (it reads and parses the file): a running prober calls it in a worker thread."""
        self._fingerprint, raw = self._read()
        if isinstance(raw, ConfigError):
            raise raw
        return with_vantage(load_config_bytes(raw, self.path), self.vantage_override)

    def changed(self) -> bool:
        """Blocking, like `load`."""
        return self._read()[0] != self._fingerprint


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
        self._one_at_a_time = asyncio.Lock()
        self._pending: set[asyncio.Task[bool]] = set()

    def reload_soon(self, why: str) -> None:
        """For a signal handler: start a reload and return at once."""
        task = asyncio.get_running_loop().create_task(self.reload(why))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def reload(self, why: str) -> bool:
        async with self._one_at_a_time:
            log.info("config reload (%s) started", why)
            try:
                new = await asyncio.to_thread(self.source.load)
            except ConfigError as exc:
                return self._rejected(why, exc)
            return self._check_and_apply(why, new)

    def _rejected(self, why: str, exc: ConfigError) -> bool:
        self.last_error = str(exc)
        self.metrics.reloads.labels(self.metrics.vantage, "failure").inc()
        self.metrics.config_loaded(False)
        log.error("config reload (%s) rejected, the previous config keeps running: %s", why, exc)
        return False

    def _check_and_apply(self, why: str, new: ProbeConfig) -> bool:
        try:
            if new.vantage != self.current.vantage:
                raise ConfigError(
                    f"vantage changed from {self.current.vantage!r} to {new.vantage!r}; restart the prober for that",
                    path=str(self.source.path),
                    field="vantage",
                )
        except ConfigError as exc:
            return self._rejected(why, exc)
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
            if not stop.is_set() and await asyncio.to_thread(self.source.changed):
                await self.reload("file changed")
