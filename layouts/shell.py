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
NO_COMPARISON = "none"  # compare-dropdown's value when no second model is picked


def model_menu(model_uploads: bool = False) -> html.Div:
    """The session's model (its callback fills the names); with uploads on, a .keras file can join them.

    With uploads off the upload is still in the page, hidden and disabled: Dash checks every
    callback's ids against the layout, and the server refuses uploads then anyway.
    """
    upload = dcc.Upload(dbc.Button("Add a model", size="sm", color="light", outline=True,
                                   title="Upload a Keras 3 .keras model of handwritten digits"),
                        id=ids.MODEL_UPLOAD, accept=".keras", className="ms-2", disabled=not model_uploads)
    return html.Div([
        dbc.Label("Model", html_for=ids.MODEL_DROPDOWN, className="text-white mb-0 me-2"),
        dcc.Dropdown(id=ids.MODEL_DROPDOWN, clearable=False, searchable=False, style={"minWidth": "11rem"}),
        html.Div(upload, hidden=not model_uploads),
    ], className="d-flex align-items-center ms-lg-3 my-2 my-lg-0")


def navbar(pages: Iterable[dict[str, Any]], model_uploads: bool = False) -> dbc.Navbar:
    """The brand, a link per page and the model menu; below the lg breakpoint (992 px: at 768 px the links
    and the model menu overflow the bar) they fold into a menu button."""
    links = [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact",
                                     id={"type": ids.NAV_LINK, "path": page["path"]}))
             for page in pages]
    toggler = dbc.NavbarToggler([html.Span(className="navbar-toggler-icon"),
                                 html.Span("Menu", className="visually-hidden")], id=ids.NAV_TOGGLER)
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand("Digit Inspector", href="/"),
            toggler,
            dbc.Collapse([dbc.Nav(links, navbar=True, className="ms-auto"), model_menu(model_uploads)],
                         id=ids.NAV_COLLAPSE, is_open=False, navbar=True),
        ]),
        id=ids.NAV, color=NAVBAR_COLOUR, dark=True, expand="lg", className="mb-3",
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


def compare_menu() -> html.Div:
    """A second model to set beside the session's (its callback fills the names), and its session store."""
    return html.Div([
        dcc.Store(id=ids.COMPARE_MODEL, storage_type="session"),
        dbc.Label("Compare with", html_for=ids.COMPARE_DROPDOWN, className="mb-0 me-2"),
        dcc.Dropdown(id=ids.COMPARE_DROPDOWN, clearable=False, searchable=False, value=NO_COMPARISON,
                     style={"minWidth": "11rem"}),
    ], className="d-flex align-items-center flex-wrap mb-2")


def shell(pages: Iterable[dict[str, Any]], model_uploads: bool = False) -> html.Div:
    """The app layout around ``dash.page_container``; ``pages`` are ``dash.page_registry`` entries.

    The session's model lives here, beside its menu: every page reads it, none writes it.
    """
    return html.Div([dcc.Store(id=ids.SELECTED_MODEL, storage_type="session"),
                     navbar(pages, model_uploads),
                     dbc.Container([html.Div(id=ids.MODEL_UPLOAD_STATUS, role="status"), dash.page_container],
                                   fluid="lg", className="pb-4")])
