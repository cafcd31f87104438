"""Page layouts: one module per page, layout only (no callbacks, no model loading)."""
