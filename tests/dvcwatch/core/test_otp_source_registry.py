"""OTP source kinds are registered once (`dvcwatch.core.otp_sources.KINDS`); what a profile accepts
and what `make_source` builds derive from that one map."""

from __future__ import annotations

from pydantic import TypeAdapter

from dvcwatch.core.otp_sources import CONFIGS, KINDS, OtpConfig, OtpRequest, make_source
from dvcwatch.core.profile import OtpSource


def test_a_profile_accepts_exactly_the_registered_sources_and_every_key_they_take() -> None:
    assert set(KINDS) == {"sandbox", "http", "command", "totp", "prompt"}
    choices = OtpSource.model_fields["source"].annotation.__args__  # type: ignore[union-attr]
    assert set(choices) == set(KINDS)
    keys = set(OtpSource.model_fields)
    for name, config in CONFIGS.items():
        assert set(config.model_fields) <= keys, f"profile.OtpSource lacks keys of source {name}"


def test_make_source_builds_the_kind_the_block_names() -> None:
    adapter = TypeAdapter(OtpConfig)
    blocks = {
        "sandbox": {"source": "sandbox"},
        "http": {"source": "http", "url": "http://127.0.0.1:9/sms"},
        "command": {"source": "command", "command": ["true"]},
        "totp": {"source": "totp", "totp_secret_env": "SEED"},
        "prompt": {"source": "prompt"},
    }
    for name, block in blocks.items():
        source = make_source(
            adapter.validate_python(block),
            base_url="http://127.0.0.1:9",
            environ={"SEED": "JBSWY3DPEHPK3PXP"},
        )
        assert source.name == name
        assert callable(source.fetch) and OtpRequest(cccd="001099012345")
