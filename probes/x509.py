"""Read a certificate's expiry from its DER bytes.

Python's `getpeercert()` returns an empty dict when verification is off, and a prober must still see
when a self-signed or not-yet-trusted certificate expires, so the DER form the handshake gave is parsed
with `cryptography`.
"""

from __future__ import annotations

from cryptography import x509


def not_after(der: bytes) -> float:
    """The certificate's notAfter as a Unix timestamp (seconds); ValueError if `der` is no certificate."""
    return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()
