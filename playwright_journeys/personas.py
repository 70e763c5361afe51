"""Personas: the device and the link a citizen uses, loaded from `personas.yaml`.

A citizen on a phone over 3G meets a different portal than a desktop on fibre; a persona bundles the
emulation (Playwright device, CDP network throttling) with the budget that persona may take.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.yamlconfig import load_model

PERSONAS_PATH = Path(__file__).with_name("personas.yaml")


class Viewport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class Network(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_ms: float = Field(ge=0)
    download_bytes_per_second: float = Field(gt=0)
    upload_bytes_per_second: float = Field(gt=0)

    def cdp(self) -> dict[str, object]:
        return {
            "offline": False,
            "latency": self.latency_ms,
            "downloadThroughput": self.download_bytes_per_second,
            "uploadThroughput": self.upload_bytes_per_second,
        }


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label_vi: str
    label_en: str
    device: str | None = None
    viewport: Viewport | None = None
    network: Network | None = None
    budget_seconds: float = Field(gt=0)
    timeout_factor: float = Field(1.0, ge=1.0, le=20)


class Personas(BaseModel):
    model_config = ConfigDict(extra="forbid")
    personas: list[Persona] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Personas:
        names = [p.name for p in self.personas]
        if len(set(names)) != len(names):
            raise ValueError("duplicate persona names")
        return self

    def get(self, name: str) -> Persona:
        for p in self.personas:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.personas)
        raise ConfigError(f"unknown persona {name!r}; one of {known}", field="--persona")


def load_personas(path: str | Path | None = None) -> Personas:
    return load_model(Personas, path or PERSONAS_PATH)
