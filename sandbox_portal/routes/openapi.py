"""The OpenAPI 3.1 description of `/api/v1`, served at `/api/openapi.json`."""

from __future__ import annotations

from typing import Any


def _op(
    summary: str, step: str, responses: dict[str, str], body: dict[str, Any] | None = None, auth: bool = False
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "x-dvc-step": step,
        "responses": {code: {"description": text} for code, text in responses.items()},
    }
    if body:
        op["requestBody"] = {"required": True, "content": body}
    if auth:
        op["security"] = [{"bearer": []}]
    return op


def _json(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"application/json": {"schema": {"type": "object", "properties": props, "required": required}}}


def _param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cổng dịch vụ công (sandbox) API",
            "version": "1",
            "description": "The JSON API of dvcwatch's sandbox portal. Faults declared in the sandbox apply "
            "to it like to the pages; each operation names its step (x-dvc-step).",
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {**_catalog_paths(), **_login_paths(), **_filing_paths(), **_tracking_paths()},
    }


def _catalog_paths() -> dict[str, Any]:
    """Health and the catalog: what a probe reads without an account."""
    return {
        "/api/v1/health": {"get": _op("Health", "none", {"200": '{"status": "ok"}'})},
        "/api/v1/services": {"get": _op("The 25 services", "find_service", {"200": "list of services"})},
        "/api/v1/services/{id}": {
            "parameters": [_param("id")],
            "get": _op("One catalog entry", "find_service", {"200": "the entry", "404": "unknown id"}),
        },
        "/api/v1/services/{id}/form": {
            "parameters": [_param("id")],
            "get": _op("E-form schema", "form", {"200": "pages (applicant, service) and documents"}),
        },
    }


def _login_paths() -> dict[str, Any]:
    """Logging in: CCCD and password, then the OTP for a bearer token."""
    s = {"type": "string"}
    return {
        "/api/v1/auth/login": {
            "post": _op(
                "CCCD + password; sends an OTP",
                "login",
                {"200": "challenge and masked phone", "401": "wrong credentials", "400": "bad input"},
                _json({"cccd": s, "password": s, "service": s}, ["cccd", "password"]),
            )
        },
        "/api/v1/auth/otp": {
            "post": _op(
                "Exchange challenge + OTP for a bearer token",
                "otp",
                {"200": "token, expires_in", "401": "wrong or expired OTP"},
                _json({"challenge": s, "otp": s}, ["challenge", "otp"]),
            )
        },
    }


def _filing_paths() -> dict[str, Any]:
    """Filing a dossier and paying its fee, with the bearer token."""
    return {
        "/api/v1/dossiers": {
            "post": _op(
                "Submit a dossier",
                "submit",
                {
                    "201": "code, status (awaiting_payment|received), payment {txn, amount}|null, expected_date",
                    "422": "errors: {field or document id: Vietnamese message}",
                    "401": "no or bad token",
                },
                {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "data": {"type": "string", "description": "JSON {service, fields}"}
                            },
                            "additionalProperties": {"type": "string", "format": "binary"},
                        }
                    }
                },
                auth=True,
            )
        },
        "/api/v1/payments/{txn}/confirm": {
            "parameters": [_param("txn")],
            "post": _op(
                "Pay through a bank or wallet",
                "payment",
                {
                    "200": '{"status": "paid", "dossier"}',
                    "402": "payment failed after the bank step",
                    "409": "already settled",
                },
                _json({"bank": {"enum": ["vcb", "bidv", "vietinbank", "agribank", "momo"]}}, ["bank"]),
            ),
        },
    }


def _tracking_paths() -> dict[str, Any]:
    """Tracking a dossier and fetching its electronic result."""
    return {
        "/api/v1/dossiers/{code}": {
            "parameters": [_param("code")],
            "get": _op(
                "Track a dossier",
                "tracking",
                {
                    "200": "code, service, status, received_at, expected_date, sub_results",
                    "404": "unknown code",
                },
            ),
        },
        "/api/v1/dossiers/{code}/result": {
            "parameters": [_param("code")],
            "get": _op(
                "Electronic result",
                "result",
                {
                    "200": "application/pdf",
                    "409": '{"delivery": "in_person"} or {"status": "processing"}',
                },
            ),
        },
    }
