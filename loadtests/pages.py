"""The profile's error pages and busy banners, as load tells them: the core's one matcher
(`dvcwatch.core.page_markers`), shared with Replay and probes so the three agree."""

from dvcwatch.core.page_markers import PageTrouble, compile_selector

__all__ = ["PageTrouble", "compile_selector"]
