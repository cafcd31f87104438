"""What every page shares: the navbar, the page container and the session stores."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids


def navbar(pages: Iterable[dict[str, Any]]) -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact")) for page in pages]
    return dbc.Navbar(
        dbc.Container([dbc.NavbarBrand("Digit Inspector", href="/"), dbc.Nav(links, navbar=True)]),
        id=ids.NAV, color="primary", dark=True, className="mb-3",
    )


def session_stores() -> list[dcc.Store]:
    """The stores every page shares: the selected layer and the last digit read.

    Each page carries its own copy: a store keeps its data in the browser's session storage under
    its id, so the copies are one value. Kept in the shell instead, a store written by a page's
    callback makes Dash fire that callback before the page (and its inputs) exists.
    """
    return [dcc.Store(id=ids.SELECTED_LAYER, storage_type="session"),
            dcc.Store(id=ids.CURRENT_DIGIT, storage_type="session")]


def shell(pages: Iterable[dict[str, Any]]) -> html.Div:
    """The app layout around ``dash.page_container``; ``pages`` are ``dash.page_registry`` entries."""
    return html.Div([navbar(pages), dbc.Container(dash.page_container, fluid="lg", className="pb-4")])
