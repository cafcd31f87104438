"""The shell: on narrow screens the navbar's menu button opens the links, and picking a page closes them."""

from __future__ import annotations

from dash import ALL, Input, Output, State, clientside_callback

from layouts import ids

# In the browser: opening a menu should never wait behind a model call on the server.
clientside_callback(
    f"""(toggled, picked, isOpen) =>
        dash_clientside.callback_context.triggered_id === "{ids.NAV_TOGGLER}" ? !isOpen : false""",
    Output(ids.NAV_COLLAPSE, "is_open"),
    Input(ids.NAV_TOGGLER, "n_clicks"), Input({"type": ids.NAV_LINK, "path": ALL}, "n_clicks"),
    State(ids.NAV_COLLAPSE, "is_open"),
    prevent_initial_call=True,
)
