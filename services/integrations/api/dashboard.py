"""The Global Brand Dashboard page: static HTML, a stylesheet and a small script served by
the service (no CDN: many corporate networks, and this machine, have no internet). It needs
no token to load; the visitor pastes one and the script calls the public portfolio JSON
with it, so the page is also the API's reference client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

__all__ = ["router"]

router = APIRouter(tags=["dashboard"])

STATIC = Path(__file__).with_name("static")
# Only this origin: nothing is fetched from elsewhere, and no inline script can run.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' blob: data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
}
FILES = {
    name: (STATIC / name).read_bytes()
    for name in ("dashboard.html", "dashboard.js", "dashboard.css")
}


def _reply(name: str, media_type: str) -> Response:
    return Response(FILES[name], media_type=media_type, headers=HEADERS)


def _content(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": what, "content": {media_type: {"schema": {"type": "string"}}}}}


@router.get("/dashboard", response_class=Response, responses=_content("text/html", "The page."))
async def dashboard_page() -> Response:
    """The Global Brand Dashboard: the portfolio summary as charts and the factory table
    with filters, for a token you paste (public: the page holds no data)."""
    return _reply("dashboard.html", "text/html; charset=utf-8")


@router.get(
    "/dashboard/dashboard.js",
    response_class=Response,
    responses=_content("text/javascript", "The page's script."),
)
async def dashboard_script() -> Response:
    """The dashboard's script (no libraries)."""
    return _reply("dashboard.js", "text/javascript; charset=utf-8")


@router.get(
    "/dashboard/dashboard.css",
    response_class=Response,
    responses=_content("text/css", "The page's stylesheet."),
)
async def dashboard_stylesheet() -> Response:
    """The dashboard's stylesheet."""
    return _reply("dashboard.css", "text/css; charset=utf-8")
