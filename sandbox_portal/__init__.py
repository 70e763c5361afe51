"""A sandbox Cổng dịch vụ công: the 25 services of Project 06 with faults the operator controls.

It exists so every instrument of dvcwatch (journeys, probes, load tests, alerts) can be run and
tested on this machine against a portal that fails exactly as declared; see docs/sandbox.md.
"""
