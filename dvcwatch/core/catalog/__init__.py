"""The catalog of the 25 essential services of Project 06, loaded from YAML."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from dvcwatch.core.catalog.models import Catalog, Document, FormField, Service
from dvcwatch.core.yamlconfig import load_model

DEFAULT_PATH = Path(__file__).with_name("services.yaml")

__all__ = ["DEFAULT_PATH", "Catalog", "Document", "FormField", "Service", "load_catalog"]


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate a catalog; `DVCWATCH_CATALOG` points at a district's own copy."""
    chosen = path or os.environ.get("DVCWATCH_CATALOG") or DEFAULT_PATH
    return _load(str(chosen))


@lru_cache(maxsize=8)
def _load(path: str) -> Catalog:
    return load_model(Catalog, path)
