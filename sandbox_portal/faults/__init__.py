"""Faults the operator declares (YAML, stable format: docs/contracts.md §5) and how they are applied."""
