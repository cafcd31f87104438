"""What every page shares: the navbar, the page container, the session stores, charts with their words."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids

# The theme's primary blue is too light under white text (3.7:1); this one gives 6.2:1.
NAVBAR_COLOUR = "#2c5fb4"


def navbar(pages: Iterable[dict[str, Any]]) -> dbc.Navbar:
    """The brand and a link per page; below the md breakpoint the links fold into a menu button."""
    links = [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact",
                                     id={"type": ids.NAV_LINK, "path": page["path"]}))
             for page in pages]
    toggler = dbc.NavbarToggler([html.Span(className="navbar-toggler-icon"),
                                 html.Span("Menu", className="visually-hidden")], id=ids.NAV_TOGGLER)
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand("Digit Inspector", href="/"),
            toggler,
            dbc.Collapse(dbc.Nav(links, navbar=True, className="ms-auto"), id=ids.NAV_COLLAPSE, is_open=False,
                         navbar=True),
        ]),
        id=ids.NAV, color=NAVBAR_COLOUR, dark=True, expand="md", className="mb-3",
    )


def session_stores() -> list[dcc.Store]:
    """The stores every page shares: the selected layer and the last digit read.

    Each page carries its own copy: a store keeps its data in the browser's session storage under
    its id, so the copies are one value. Kept in the shell instead, a store written by a page's
    callback makes Dash fire that callback before the page (and its inputs) exists.
    """
    return [dcc.Store(id=ids.SELECTED_LAYER, storage_type="session"),
            dcc.Store(id=ids.CURRENT_DIGIT, storage_type="session")]


def described_graph(graph: dcc.Graph, summary_id: str) -> html.Figure:
    """A chart and, for screen readers, a sentence that says what it shows (its callback writes it).

    Plotly's SVG reads as a heap of tick labels, so it is hidden from assistive technology and
    the figure is named by its caption instead.
    """
    return html.Figure([html.Div(graph, **{"aria-hidden": "true"}),
                        html.Figcaption(id=summary_id, className="visually-hidden")], className="m-0")


def shell(pages: Iterable[dict[str, Any]]) -> html.Div:
    """The app layout around ``dash.page_container``; ``pages`` are ``dash.page_registry`` entries."""
    return html.Div([navbar(pages), dbc.Container(dash.page_container, fluid="lg", className="pb-4")])
