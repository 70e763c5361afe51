"""Valid e-form values for a service, shared by journeys and load tests.

Both instruments must submit what a real citizen would, so the values come from the catalog (the
field's `source` on the citizen, or its `example`) and are checked against the same rule the portal
applies; a field the catalog cannot fill is a catalog bug, raised here rather than at the portal.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from datetime import date, timedelta

from dvcwatch.core.catalog.models import Catalog, FormField, Service
from dvcwatch.core.identities import Citizen
from dvcwatch.core.profile import FromIdentity, Generated, ValueSpec

GENERATED_TEXT = "Kiểm thử dvcwatch"

# Small valid files per accepted type, so uploads exercise the portal's type checks for real.
SAMPLE_FILES: dict[str, tuple[str, bytes]] = {
    "pdf": (
        "application/pdf",
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n",
    ),
    "jpg": ("image/jpeg", bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")),
    "png": (
        "image/png",
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        ),
    ),
}


def field_value(field: FormField, who: Citizen) -> str:
    if field.source:
        value = who.attr(field.source)
    elif field.example is not None:
        value = field.example
    elif field.type == "select":
        value = field.options[0]  # type: ignore[index]
    elif field.type == "number":
        value = str(field.min if field.min is not None else 1)
    elif field.type == "checkbox":
        value = "on"
    else:
        raise ValueError(f"field {field.name} has no source or example to fill it with")
    rule = field.rule()
    if rule and not re.match(rule, value):
        raise ValueError(f"catalog value {value!r} for {field.name} breaks its own rule {rule}")
    return value


def _digits(who: Citizen, salt: str) -> int:
    """A number fixed for this citizen and purpose: a failing run can be replayed with the same values."""
    return int.from_bytes(hashlib.sha256(f"{who.cccd}:{salt}".encode()).digest()[:8], "big")


def profile_value(spec: ValueSpec, who: Citizen, *, today: date | None = None) -> str | None:
    """What a profile's value (`forms.<service>.extra.<name>.value`, or a field's `value`) says to
    type: the fixed string, the citizen's attribute, or a made-up value of its type (dates as the
    catalog writes them, dd/mm/yyyy). None for `generate: option`: only the page knows its options."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, FromIdentity):
        return who.attr(spec.attr)
    assert isinstance(spec, Generated)
    if spec.generate == "date":
        return ((today or date.today()) + timedelta(days=spec.offset_days)).strftime("%d/%m/%Y")
    if spec.generate == "phone":
        return f"09{_digits(who, 'phone') % 10**8:08d}"
    if spec.generate == "number":
        top = spec.max if spec.max is not None else spec.min
        return str(spec.min + _digits(who, "number") % (top - spec.min + 1))
    if spec.generate == "text":
        return GENERATED_TEXT
    return None


def fill(catalog: Catalog, service: Service, who: Citizen) -> dict[str, str]:
    """Every applicant and service field, in form order."""
    return {f.name: field_value(f, who) for f in catalog.all_fields(service)}


def sample_file(document_id: str, types: list[str], *, size_kb: int | None = None) -> tuple[str, str, bytes]:
    """(filename, content type, bytes) of a small valid file the document accepts; `size_kb` pads it
    to that size where a portal checks a minimum (a scan is never a few bytes)."""
    kind = types[0]
    ctype, data = SAMPLE_FILES[kind]
    if size_kb is not None and size_kb * 1024 > len(data):
        data = _padded(kind, data, size_kb * 1024)
    return f"{document_id}.{kind}", ctype, data


def _padded(kind: str, data: bytes, size: int) -> bytes:
    """The same file grown to `size` bytes with what its format ignores: a PDF comment before the
    trailer, JPEG comment segments after its JFIF header, a private PNG chunk before IEND."""
    if kind == "pdf":
        head, tail = data[: data.rindex(b"trailer")], data[data.rindex(b"trailer") :]
        room = size - len(data) - 2
        return head + b"%" + b" " * room + b"\n" + tail
    if kind == "jpg":
        room, segments = size - len(data), b""
        while room > 0:
            n = min(room, 65_535 + 2)
            if room - n in (1, 2, 3):  # leave room for a whole segment (4 bytes at least)
                n -= 4
            segments += b"\xff\xfe" + (n - 2).to_bytes(2, "big") + b" " * (n - 4)
            room -= n
        app0_end = 4 + int.from_bytes(data[4:6], "big")  # keep the JFIF header where readers look
        return data[:app0_end] + segments + data[app0_end:]
    iend = data.rindex(b"IEND") - 4
    body = b" " * (size - len(data) - 12)
    chunk = len(body).to_bytes(4, "big") + b"paDd" + body
    return data[:iend] + chunk + zlib.crc32(chunk[4:]).to_bytes(4, "big") + data[iend:]
