"""Every component id of the app, spelled once (DESIGN.md's contract ids are kept verbatim)."""

# On every page (the navbar in the shell; each page carries its own copy of the session stores)
NAV = "nav"
NAV_TOGGLER = "nav-toggler"  # the menu button of the navbar on narrow screens
NAV_COLLAPSE = "nav-collapse"
NAV_LINK = "nav-link"  # pattern-matching type: {"type": NAV_LINK, "path": page path}
SELECTED_LAYER = "selected-layer"  # session store: the Grad-CAM target layer
CURRENT_DIGIT = "current-digit"  # session store: the 28x28 input of the last prediction
MODEL_DROPDOWN = "model-dropdown"  # the navbar's model menu: the session's model
SELECTED_MODEL = "selected-model"  # session store (in the shell): the name of the session's model
MODEL_UPLOAD = "model-upload"  # dcc.Upload of a .keras file, only with DIGIT_INSPECTOR_MODEL_UPLOADS=1
MODEL_UPLOAD_STATUS = "model-upload-status"  # what became of the last model upload
COMPARE_DROPDOWN = "compare-dropdown"  # predict and evaluation pages: a second model, or "none"
COMPARE_MODEL = "compare-model"  # session store (a copy in each page with compare-dropdown): its name

# Predict page
CANVAS = "canvas"
STROKES = "strokes"  # session store: the SVG paths drawn on the canvas
CLEAR_BUTTON = "clear-button"
UNDO_BUTTON = "undo-button"
UPLOAD = "upload"
TOP3_CHART = "top3-chart"
GRADCAM_FIGURE = "gradcam-figure"  # the map: the digit and the map over it as two pictures (pixel-map in predict.css)
MAP_STACK = "map-stack"  # the map and the live map above it; its style holds the overlay's opacity
LIVE_READING = "live-reading"  # switch: top 3 and map follow the pen while it moves (assets/live.js)
LIVE_OPTIONS = "live-options"  # data-options: what the live readings are asked with (layer, method, model, pen)
OPACITY_SLIDER = "opacity-slider"
MODEL_INPUT = "model-input"
LAYER_DROPDOWN = "layer-dropdown"
METHOD_DROPDOWN = "method-dropdown"
SELECTED_METHOD = "selected-method"  # session store: the method the user chose (the recommended one when empty)
STATUS = "status"
FAITHFULNESS = "faithfulness"
NOVELTY_SUMMARY = "novelty-summary"  # the not-a-digit score against the model's threshold
PEN_WIDTH = "pen-width"
EXAMPLE_DIGITS = "example-digits"  # links to /?test=N, each with a picture of the digit
DOWNLOAD_BUTTON = "download-button"
DOWNLOAD_JSON = "download-json"  # dcc.Download: the prediction object
DOWNLOAD_PNG = "download-png"  # dcc.Download: the map over the digit
PREDICTION = "prediction"  # store: the options the answer on show was made with, for download-button
DIGIT_SOURCE = "digit-source"  # session store: an uploaded image or a test digit read instead of the drawing
REQUESTED_TEST = "requested-test"  # store: N of /?test=N, set by the layout
UPLOAD_REFUSED = "upload-refused"  # store: name and size of a file refused in the browser (assets/upload.js)
UPLOAD_LIMIT = "upload-limit"  # holds data-max-bytes for assets/upload.js
CANVAS_PANEL = "canvas-panel"  # the canvas and its buttons, hidden while an image is shown instead
SOURCE_PANEL = "source-panel"  # the uploaded image or test digit, its name and remove-button
SOURCE_IMAGE = "source-image"
SOURCE_NAME = "source-name"
REMOVE_BUTTON = "remove-button"
EXPLAIN_CLASS = "explain-class"  # radio buttons of the top-3 digits: which one the map explains
METHOD_HELP = "method-help"
TOP3_SUMMARY = "top3-summary"  # visually hidden: each chart in words
GRADCAM_SUMMARY = "gradcam-summary"
MODEL_INPUT_SUMMARY = "model-input-summary"
PREDICT_MODEL = "predict-model"  # store in the page: selected-model, copied once the page's layer menu follows it
COMPARE_PANEL = "compare-panel"  # the compared model's reading of the same digit, hidden without one
COMPARE_HEADING = "compare-heading"
COMPARE_TOP3 = "compare-top3-chart"
COMPARE_MAP = "compare-gradcam-figure"
COMPARE_SUMMARY = "compare-summary"  # the compared reading in words, for screen readers
NUMBER_PANEL = "number-panel"  # the number read and its digit strip, hidden for a single digit
NUMBER_READ = "number-read"  # the number read, in large type
DIGIT_STRIP = "digit-strip"  # one card per digit: its crop, the 28x28 the model saw, top 1 and confidence
DIGIT_CARD = "digit-card"  # pattern-matching type: {"type": DIGIT_CARD, "index": i}, a card of digit-strip
SELECTED_DIGIT = "selected-digit"  # store: which digit of the number the main panels explain

# Layers page
LAYERS_TABLE = "layers-table"
FEATURE_MAPS = "feature-maps"
FEATURE_MAPS_SUMMARY = "feature-maps-summary"  # the figure's text alternative

# Evaluation page
EVALUATION_OPENED = "evaluation-opened"  # a store in the page, so the report callback fires when it renders
EVALUATION_STATUS = "evaluation-status"
EVALUATION_PROGRESS = "evaluation-progress"  # how far a report being computed on first use is
EVALUATION_PROGRESS_POLL = "evaluation-progress-poll"  # dcc.Interval, on only while a report is computed
COMPARISON = "comparison"  # both models' metrics side by side, the digits exactly one reads right
CONFUSION_MATRIX = "confusion-matrix"
CONFUSION_MATRIX_SUMMARY = "confusion-matrix-summary"  # the figure's text alternative
CELL_TRUE = "cell-true"  # keyboard twin of a confusion cell click: the true digit...
CELL_READ_AS = "cell-read-as"  # ...and what the model read it as
MISCLASSIFIED_GALLERY = "misclassified-gallery"
GALLERY_ORDER = "gallery-order"
METRICS_TABLE = "metrics-table"
CALIBRATION_FIGURE = "calibration-figure"
CALIBRATION_SUMMARY = "calibration-summary"  # the figure's text alternative
ROBUSTNESS_FIGURE = "robustness-figure"  # accuracy per MNIST-C corruption; a bar's click fills the gallery
ROBUSTNESS_SUMMARY = "robustness-summary"  # the figure's text alternative

# Explanations page
EXPLANATIONS_OPENED = "explanations-opened"  # a store in the page, so that its callback fires when it renders
EXPLANATIONS_STATUS = "explanations-status"
NOVELTY_SCOREBOARD = "novelty-scoreboard"  # not-a-digit detectors x kinds, flagged shares
NOVELTY_SCOREBOARD_TEXT = "novelty-scoreboard-text"
NOVELTY_ADVICE = "novelty-advice"
METHOD_SCOREBOARD = "method-scoreboard"
METHOD_SCOREBOARD_TEXT = "method-scoreboard-text"
SANITY_FIGURE = "sanity-figure"
SANITY_FIGURE_TEXT = "sanity-figure-text"
RECOMMENDATION = "recommendation"

# Evaluation page: the report as one HTML file (the evaluation page's own ids are above)
REPORT_DOWNLOAD = "report-download"  # the button
REPORT_DOWNLOAD_FILE = "report-download-file"  # its dcc.Download

# Field data: feedback on the predict page (DESIGN.md "Field data")
FEEDBACK_RIGHT = "feedback-right"  # button: the model's answer is right
FEEDBACK_LABEL = "feedback-label"  # select: "Wrong, it is ..." 0-9 or not a digit
FEEDBACK_STATUS = "feedback-status"  # what became of the feedback
FEEDBACK_KEPT = "feedback-kept"  # the sentence beside the buttons: what is kept
FIELD_RECORD = "field-record"  # store: the field record of the reading on show ({"id", "digest"})
REQUESTED_FIELD = "requested-field"  # store: ID of /?field=ID, set by the layout
FIELD_TOKEN = "field-token"  # session store (on the predict and field pages): the admin token, asked once

# Field page (/field)
FIELD_OPENED = "field-opened"
FIELD_TOKEN_INPUT = "field-token-input"
FIELD_TOKEN_BUTTON = "field-token-button"
FIELD_STATUS = "field-status"
FIELD_MODEL_FILTER = "field-model-filter"
FIELD_DATES = "field-dates"
FIELD_SUMMARY = "field-summary"
FIELD_ACTIVITY = "field-activity"  # records and labels per day and model
FIELD_CONFUSION_MATRIX = "field-confusion-matrix"
FIELD_GALLERY = "field-gallery"
FIELD_DISTRIBUTIONS = "field-distributions"  # confidence and novelty score, field digits against MNIST
FIELD_DRIFT = "field-drift"
FIELD_SCORE_MODEL = "field-score-model"  # another model to score on the labelled field digits
FIELD_SCORE = "field-score"
FIELD_EXPORT = "field-export"  # button: the labelled records as an npz
FIELD_EXPORT_FILE = "field-export-file"
FIELD_DELETE = "field-delete"  # pattern-matching type: {"type": FIELD_DELETE, "id": record id}
FIELD_DELETE_ALL = "field-delete-all"
FIELD_DELETE_CONFIRM = "field-delete-confirm"
FIELD_REFRESH = "field-refresh"  # store: bumped after a deletion, so that the page counts again
