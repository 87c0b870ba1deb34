"""The colours every format uses, so a red box in the PDF is the red cell in Excel."""

from __future__ import annotations

from events import Rag
from events.payloads import PublicSensitivity

RAG_FILL = {Rag.green: "#2e7d32", Rag.amber: "#ffbf00", Rag.red: "#c62828"}
# Text on each fill, chosen for contrast (amber is light).
RAG_INK = {Rag.green: "#ffffff", Rag.amber: "#1b1b1b", Rag.red: "#ffffff"}

# Public sensitivity is shown as a RAG box, as in the council's pack.
SENSITIVITY_RAG = {
    PublicSensitivity.low: Rag.green,
    PublicSensitivity.medium: Rag.amber,
    PublicSensitivity.high: Rag.red,
}

BUDGET_INK = "#1d4f91"
FORECAST_INK = "#7aa6d6"
OVERSPEND_INK = "#c62828"
BASELINE_INK = "#505a5f"
MUTED_INK = "#6f777b"
GRID_INK = "#d8dde0"
