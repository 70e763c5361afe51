"""Recorded flows (issue 16): a shopper's HTTP exchange with a portal, compiled into a template that
load and probes replay without a browser.

`model` is the file format, `compile` turns a HAR recording into flows, `replay` is the sans-IO planner
both instruments drive with their own HTTP client. This package imports nothing from the instruments.
"""

from dvcwatch.core.flows.model import Extract, Flow, FlowRequest, FlowStep, Upload, load_flow, load_flows
from dvcwatch.core.flows.replay import Answer, Bindings, Prepared, Replay

__all__ = [
    "Answer",
    "Bindings",
    "Extract",
    "Flow",
    "FlowRequest",
    "FlowStep",
    "Prepared",
    "Replay",
    "Upload",
    "load_flow",
    "load_flows",
]
