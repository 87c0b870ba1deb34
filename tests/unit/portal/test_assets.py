"""The portal's stylesheet is a council's: GOV.UK Frontend without the GDS Transport font,
its assets served by this app rather than a CDN."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from capital.api import create_app
from capital.settings import WebSettings
from capital.web.assets import CHECKOUT_MODULES, Frontend, council_stylesheet, stylesheet


def test_the_gds_transport_font_is_left_out_and_asset_urls_point_at_this_app():
    css = (
        '@charset "UTF-8";@font-face{font-family:"GDS Transport";src:url(/assets/fonts/a.woff2)}'
        ".govuk-body{font-family:GDS Transport,arial,sans-serif}"
        ".icon{background:url(/assets/images/x.svg)}"
    )

    served = council_stylesheet(css, "/static/govuk/assets/")

    assert served == (
        ".govuk-body{font-family:arial,sans-serif}"
        ".icon{background:url(/static/govuk/assets/images/x.svg)}"
    )


def test_the_served_stylesheet_has_no_gds_transport_and_no_outside_urls():
    css = stylesheet(Frontend(CHECKOUT_MODULES))

    assert "GDS Transport" not in css
    assert ".govuk-summary-list" in css and ".moj-timeline" in css
    urls = set(re.findall(r"url\(([^)]*)\)", css))
    assert urls and all(u.strip("\"'").startswith(("/static/", "data:", "#")) for u in urls)


def test_without_the_packages_the_stylesheet_says_how_to_install_them(
    make_container, sqlite_url, tmp_path
):
    container = make_container(sqlite_url, web=WebSettings(frontend_modules=tmp_path))

    served = TestClient(create_app(container)).get("/static/portal.css")

    assert served.status_code == 503
    assert "run scripts/setup" in served.text
