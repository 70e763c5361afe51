"""find_service: the home page with search and the agency-grouped list, search results, a service's page."""

from __future__ import annotations

import unicodedata

from aiohttp import web

from sandbox_portal.attribution import step
from sandbox_portal.rendering import render
from sandbox_portal.routes.common import service_or_404, state_of


def fold(text: str) -> str:
    """Lower-case without diacritics, so "dang ky khai sinh" finds "Đăng ký khai sinh"."""
    text = text.lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


@step("find_service")
async def home(request: web.Request) -> web.Response:
    st = state_of(request)
    groups = [(st.agencies[a], svcs) for a, svcs in st.catalog.by_agency().items()]
    return render(request, "home.html", {"groups": groups, "count": len(st.services)})


@step("find_service")
async def search(request: web.Request) -> web.Response:
    st = state_of(request)
    q = request.query.get("q", "").strip()
    words = fold(q).split()
    index = request.app[SEARCH_KEY]
    # an empty query lists everything, like the portals' "all procedures" page
    results = [st.services[sid] for sid, text in index if all(w in text for w in words)]
    return render(request, "search.html", {"q": q, "results": results})


@step("find_service")
async def service_page(request: web.Request) -> web.Response:
    st = state_of(request)
    svc = service_or_404(request)
    return render(request, "service.html", {"svc": svc, "agency": st.agencies[svc.agency]})


SEARCH_KEY = web.AppKey("search_index", list)


def search_index(app: web.Application) -> list[tuple[str, str]]:
    from sandbox_portal.state import STATE_KEY

    st = app[STATE_KEY]
    return [
        (s.id, fold(" ".join([s.name_vi, s.name_en, s.id, *(c.code for c in s.codes)])))
        for s in st.catalog.services
    ]


def setup(app: web.Application) -> None:
    app[SEARCH_KEY] = search_index(app)
    app.router.add_get("/", home)
    app.router.add_get("/tim-kiem", search)
    app.router.add_get("/dich-vu/{service}", service_page)
