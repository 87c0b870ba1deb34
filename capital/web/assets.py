"""The front-end packages, served from the `node_modules` that `npm ci` made from the
committed lockfile (scripts/setup, or the image's build), never from a CDN.

GOV.UK Frontend's compiled stylesheet asks for the GDS Transport font, which is for GOV.UK
services only: the stylesheet served here drops that font (system fonts instead) and points
the assets at where this app serves them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent
# Where scripts/setup installs the packages in a checkout (the image sets another place).
CHECKOUT_MODULES = HERE / "frontend" / "node_modules"
OWN = HERE / "static"
AXE = CHECKOUT_MODULES / "axe-core" / "axe.min.js"  # for the browser tests only

_GDS_FONT_FACE = re.compile(r"@font-face\{font-family:\s*\"?GDS Transport\"?;[^}]*\}")
_GDS_FONT_NAME = re.compile(r"\"?GDS Transport\"?,\s*")


class FrontendMissing(RuntimeError):
    """The npm packages are not installed."""


@dataclass(frozen=True)
class Frontend:
    """The installed packages' compiled files."""

    modules: Path

    @property
    def govuk(self) -> Path:
        return self.modules / "govuk-frontend" / "dist" / "govuk"

    @property
    def moj(self) -> Path:
        return self.modules / "@ministryofjustice" / "frontend" / "moj"

    @property
    def htmx(self) -> Path:
        return self.modules / "htmx.org" / "dist"


def council_stylesheet(css: str, assets_at: str) -> str:
    """A compiled GOV.UK or MOJ stylesheet without the GDS Transport font, its `/assets/`
    URLs moved to `assets_at`."""
    # The sheets are joined into one, where only a first @charset would count: the
    # response's Content-Type names the charset instead.
    css = css.replace('@charset "UTF-8";', "")
    css = _GDS_FONT_FACE.sub("", css)
    css = _GDS_FONT_NAME.sub("", css)
    return css.replace("url(/assets/", f"url({assets_at}")


@cache
def stylesheet(frontend: Frontend) -> str:
    """GOV.UK Frontend, the MOJ components and the portal's own rules, in that order."""
    parts = [
        (frontend.govuk / "govuk-frontend.min.css", "/static/govuk/assets/"),
        (frontend.moj / "moj-frontend.min.css", "/static/moj/assets/"),
    ]
    missing = [str(path) for path, _ in parts if not path.is_file()]
    if missing:
        raise FrontendMissing(
            f"the front-end packages are not installed ({', '.join(missing)}): run scripts/setup"
        )
    css = [council_stylesheet(path.read_text("utf-8"), at) for path, at in parts]
    css.append((OWN / "portal.css").read_text("utf-8"))
    return "\n".join(css)


def mount_assets(app: FastAPI, modules: Path | None) -> None:
    frontend = Frontend(modules or CHECKOUT_MODULES)
    for prefix, folder in (
        ("/static/govuk", frontend.govuk),
        ("/static/moj", frontend.moj),
        ("/static/htmx", frontend.htmx),
        ("/static/portal", OWN),
    ):
        app.mount(prefix, StaticFiles(directory=folder, check_dir=False), name=prefix)

    @app.get("/static/portal.css", include_in_schema=False)
    def portal_css() -> Response:
        try:
            css = stylesheet(frontend)
        except FrontendMissing as error:
            return Response(str(error), status_code=503, media_type="text/plain")
        return Response(
            css,
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600"},
        )
