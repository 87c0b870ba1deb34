"""Reading rendered HTML reports back the way a test needs: cards, RAG boxes, table cells."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from events import Rag
from services.reporter.render.palette import RAG_FILL


@dataclass
class Card:
    scheme_id: str
    rag_boxes: dict[str, tuple[str, str]] = field(default_factory=dict)  # which -> (rag, style)
    text: list[str] = field(default_factory=list)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


class PackPage(HTMLParser):
    """Every scheme card with its four RAG boxes and its text; the charts; the whole text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.cards: dict[str, Card] = {}
        self.charts: list[str] = []
        self.svg_count = 0
        self.text: list[str] = []
        self._card: Card | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "section" and "data-scheme-id" in attributes:
            self._card = Card(attributes["data-scheme-id"])
            self.cards[self._card.scheme_id] = self._card
        if tag == "div" and "data-rag-box" in attributes and self._card is not None:
            self._card.rag_boxes[attributes["data-rag-box"]] = (
                attributes["data-rag"],
                attributes.get("style", ""),
            )
        if tag == "figure" and "data-chart" in attributes:
            self.charts.append(attributes["data-chart"])
        if tag == "svg":
            self.svg_count += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._card = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._card is not None:
            self._card.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def fill_of(style: str) -> str:
    """The background colour an inline style gives."""
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        if name.strip() == "background-color":
            return value.strip()
    return ""


def fill(rag: Rag | str) -> str:
    return RAG_FILL[Rag(rag)]
