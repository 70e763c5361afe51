"""Benchmark: our flow user (the core's Replay, naming, answer and trouble-page checks, run hooks and
timeline) replaying a recorded flow of the same request (load_generator.py writes it, --dvc-flows)."""

from loadtests import hooks
from loadtests.flow_user import FlowUser

hooks.install()

__all__ = ["FlowUser"]
