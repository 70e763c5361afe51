"""What a person adds to the compiler's automatic correlation, in the profile (`flows:`).

flows:
  extract:                      # take this from answers; wherever its value reappears, use ${name}
    - {name: token, source: html, expr: 'meta[name="csrf-token"]', attr: content}
  ignore: ['/api/thong-ke', '\\?_=\\d+$']   # requests (URL regex) left out of flows
  literal: [captcha_id]         # request fields kept as recorded, never correlated
  headers: [User-Agent]         # kept although the compiler drops it (compile.DROPPED_HEADERS)
  drop_headers: [X-Debug-Id]    # left out although the recording sent it (every other header is kept)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from dvcwatch.core.flows.model import Extract
from dvcwatch.core.yamlconfig import check_regex


class FlowRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    extract: list[Extract] = []
    ignore: list[str] = []
    literal: list[str] = []
    headers: list[str] = []
    drop_headers: list[str] = []

    @field_validator("ignore")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        for pattern in v:
            check_regex(pattern)
        return v
