"""Server-rendered pages: one jinja2 environment, templates compiled once at start-up."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from sandbox_portal.state import USER_KEY

TEMPLATES = Path(__file__).with_name("templates")
ENV_KEY = web.AppKey("jinja", jinja2.Environment)

ERROR_TEXT = {
    400: "Yêu cầu không hợp lệ",
    401: "Bạn cần đăng nhập để tiếp tục",
    403: "Bạn không có quyền truy cập trang này",
    404: "Không tìm thấy trang bạn yêu cầu",
    409: "Thao tác không thực hiện được ở trạng thái hiện tại",
    413: "Tệp đính kèm quá lớn",
    500: "Hệ thống đang gặp sự cố. Vui lòng thử lại sau",
    502: "Kết nối tới hệ thống thất bại",
    503: "Hệ thống đang bảo trì. Vui lòng thử lại sau",
    504: "Hệ thống phản hồi quá thời gian chờ",
}


def vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


@lru_cache(maxsize=1)
def make_env() -> jinja2.Environment:
    """Shared by every portal in the process: compiled templates are immutable."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vnd"] = vnd
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)  # compile now: the first citizen should not pay for it
    return env


def render(
    request: web.Request, name: str, ctx: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    env = request.app[ENV_KEY]
    context = {"request": request, "user": request.get(USER_KEY), **(ctx or {})}
    html = env.get_template(name).render(context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def wants_json(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/_sandbox/"))


def error_response(request: web.Request, status: int, message: str | None = None) -> web.Response:
    """An error page (`data-testid="error-page"`) or, on the API, a JSON error."""
    text = message or ERROR_TEXT.get(status, "Đã có lỗi xảy ra")
    if wants_json(request):
        return web.Response(
            text=json.dumps({"error": text, "status": status}, ensure_ascii=False),
            status=status,
            content_type="application/json",
        )
    return render(request, "error.html", {"status": status, "message": text}, status=status)


def soft_failure_response(request: web.Request, message: str) -> web.Response:
    """HTTP 200 that is not a success: what a busy portal shows instead of the page asked for."""
    if wants_json(request):
        return web.Response(
            text=json.dumps({"status": "busy", "error": message}, ensure_ascii=False),
            content_type="application/json",
        )
    return render(request, "busy.html", {"message": message})


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False), status=status, content_type="application/json"
    )
