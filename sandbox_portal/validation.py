"""Server-side checks of e-form values and attached files, with messages in Vietnamese.

The rules are the catalog's (`FormField.rule()`, required, options, min/max; a document's accepted
types and size), so a form filler that follows the catalog passes and one that does not is told
why, field by field, the way a portal's red text under an input does.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from dvcwatch.core.catalog.models import Document, FormField

TYPE_MESSAGES = {
    "cccd": "Số định danh cá nhân phải gồm đúng 12 chữ số.",
    "date": "Ngày không hợp lệ, vui lòng nhập theo dạng dd/mm/yyyy.",
    "phone": "Số điện thoại phải gồm 10 chữ số và bắt đầu bằng số 0.",
    "email": "Địa chỉ thư điện tử không hợp lệ.",
    "number": "{label} phải là một số nguyên.",
}

MAGIC = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {"pdf": ("pdf",), "jpg": ("jpg", "jpeg"), "png": ("png",)}


@lru_cache(maxsize=512)
def _compiled(rule: str) -> re.Pattern[str]:
    return re.compile(rule)


def check_field(field: FormField, raw: str | None) -> str | None:
    """The error message for one value, or None when it is acceptable."""
    value = (raw or "").strip()
    label = field.label_vi
    if not value:
        if field.required:
            verb = "chọn" if field.type in ("select", "checkbox") else "nhập"
            return f"Vui lòng {verb} {label[0].lower()}{label[1:]}."
        return None
    if field.type == "select":
        if value not in (field.options or []):
            return f"Giá trị «{value}» không có trong danh sách {label[0].lower()}{label[1:]}."
        return None
    rule = field.rule()
    if rule and not _compiled(rule).match(value):
        msg = TYPE_MESSAGES.get(field.type) if not field.pattern else None
        return (msg or f"{label} không đúng định dạng.").format(label=label)
    if field.type == "date":
        try:
            datetime.strptime(value, "%d/%m/%Y")
        except ValueError:
            return TYPE_MESSAGES["date"]
    if field.type == "number":
        n = int(value)
        if (field.min is not None and n < field.min) or (field.max is not None and n > field.max):
            lo = field.min if field.min is not None else "…"
            hi = field.max if field.max is not None else "…"
            return f"{label} phải nằm trong khoảng từ {lo} đến {hi}."
    return None


def check_fields(fields: list[FormField], values: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for f in fields:
        msg = check_field(f, values.get(f.name))
        if msg:
            errors[f.name] = msg
    return errors


def _human_size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n // 1000} KB"


def check_file(doc: Document, filename: str | None, content: bytes | None) -> str | None:
    """Type by extension AND by content (magic bytes), then size; None when acceptable."""
    if not filename or content is None:
        return f"Vui lòng đính kèm {doc.name_vi[0].lower()}{doc.name_vi[1:]}." if doc.required else None
    allowed = ", ".join(t.upper() for t in doc.types)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    kind = next((t for t in doc.types if ext in EXTENSIONS[t]), None)
    if kind is None:
        return f"Tệp «{filename}» không đúng loại cho phép (chỉ chấp nhận {allowed})."
    if not content:
        return f"Tệp «{filename}» rỗng."
    if len(content) > doc.max_bytes:
        return f"Tệp «{filename}» vượt quá dung lượng cho phép (tối đa {_human_size(doc.max_bytes)})."
    if not content.startswith(MAGIC[kind]):
        return f"Nội dung tệp «{filename}» không phải là tệp {kind.upper()} hợp lệ."
    return None
