"""Read a certificate's expiry from its DER bytes.

Python's `getpeercert()` returns an empty dict when verification is off, and a prober must still see
when a self-signed or not-yet-trusted certificate expires; the standard library has no public DER
parser and the `cryptography` package is not a dependency, so the few ASN.1 steps to reach
`tbsCertificate.validity.notAfter` (RFC 5280 §4.1) are done here.
"""

from __future__ import annotations

import calendar
import time

_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_SEQUENCE = 0x30
_EXPLICIT_VERSION = 0xA0


def _read_tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the element at `pos`."""
    tag = der[pos]
    length = der[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(der[pos : pos + n], "big")
        pos += n
    end = pos + length
    if end > len(der):
        raise ValueError("truncated DER")
    return tag, pos, end


def _parse_time(tag: int, raw: bytes) -> float:
    text = raw.decode("ascii")
    if not text.endswith("Z"):
        raise ValueError("certificate time is not in UTC")
    if tag == _UTC_TIME:
        yy = int(text[:2])
        # RFC 5280: YY >= 50 means 19YY, otherwise 20YY
        text = ("19" if yy >= 50 else "20") + text
    return float(calendar.timegm(time.strptime(text[:14], "%Y%m%d%H%M%S")))


def not_after(der: bytes) -> float:
    """The certificate's notAfter as a Unix timestamp (seconds)."""
    tag, pos, _ = _read_tlv(der, 0)  # Certificate
    if tag != _SEQUENCE:
        raise ValueError("not a DER certificate")
    tag, pos, _ = _read_tlv(der, pos)  # tbsCertificate
    if tag != _SEQUENCE:
        raise ValueError("not a DER certificate")
    tag, _, end = _read_tlv(der, pos)
    if tag == _EXPLICIT_VERSION:
        tag, _, end = _read_tlv(der, end)  # serialNumber
    for _ in range(2):  # signature algorithm, issuer
        tag, _, end = _read_tlv(der, end)
    tag, vstart, _ = _read_tlv(der, end)
    if tag != _SEQUENCE:
        raise ValueError("no validity in certificate")
    _, _, nb_end = _read_tlv(der, vstart)  # notBefore
    tag, na_start, na_end = _read_tlv(der, nb_end)  # notAfter
    if tag not in (_UTC_TIME, _GENERALIZED_TIME):
        raise ValueError("notAfter is not a time")
    return _parse_time(tag, der[na_start:na_end])
