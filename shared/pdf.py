"""PDF downloads (reports, invoices): which replies are PDFs, how OpenAPI says so, and the one
page layout every service's documents share, drawn with fpdf2.

A service describes its document as data (`Sheet`: a title, labelled fields, sections of
paragraphs and tables) and `render` draws it. Text is wrapped and placed here rather than
by fpdf2's `multi_cell`/`table`, which measure text character by character in Python (about
10 ms a table row: 2 s for a 200-finding report); words are measured once from the font's
width table instead. Fonts are bundled (`shared/fonts`, with their licences), so no system
font is needed: DejaVu Sans (Latin with Vietnamese, Greek, Cyrillic) and, added to a
document only when its text needs them, Noto Sans Bengali and Noto Sans Khmer. A character
no bundled font has is drawn as an empty box, never an error. Complex scripts are not
shaped (fpdf2 would need uharfbuzz): Bengali and Khmer letters are all there and extract
as the right text, but conjuncts are drawn letter by letter.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fpdf import FPDF
from fpdf.fonts import TTFFont

__all__ = [
    "MEDIA_TYPE",
    "Column",
    "Section",
    "Sheet",
    "Table",
    "pdf_alternative",
    "pdf_reply",
    "pdf_responses",
    "render",
    "wants_pdf",
]

MEDIA_TYPE = "application/pdf"
FONT_DIR = Path(__file__).with_name("fonts")
BODY_FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# Scripts DejaVu Sans lacks: font file and the code points it is added for. Each font costs
# tens of milliseconds to read and subset, so a document loads only those its text uses.
FALLBACK_FONTS: dict[str, tuple[str, range]] = {
    "bengali": ("NotoSansBengali-Regular.ttf", range(0x0980, 0x0A00)),
    "khmer": ("NotoSansKhmer-Regular.ttf", range(0x1780, 0x1800)),
}

PAGE_WIDTH, MARGIN = 210.0, 15.0  # A4, millimetres
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BOTTOM = 297.0 - 18.0  # room for the footer
SIZE, LEADING = 9.0, 4.4  # body text: points, line height in mm
PT = 25.4 / 72  # millimetres per point
CELL_PAD = 1.2


# --- content negotiation and OpenAPI ------------------------------------------------------

_MEDIA_RANGE = re.compile(r"^\s*([^;\s]+)\s*(?:;(.*))?$")


def _quality(params: str | None) -> float:
    for param in (params or "").split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def wants_pdf(request: Request) -> bool:
    """Whether the client asked for the PDF: `Accept` names `application/pdf` with a higher
    quality than `application/json` (when both are named alike, or only wildcards, JSON,
    the default, wins)."""
    pdf = json = 0.0
    for media_range in request.headers.get("accept", "").split(","):
        match = _MEDIA_RANGE.match(media_range)
        if match is None:
            continue
        media_type = match.group(1).lower()
        if media_type == MEDIA_TYPE:
            pdf = max(pdf, _quality(match.group(2)))
        elif media_type == "application/json":
            json = max(json, _quality(match.group(2)))
    return pdf > json


_BINARY = {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}


def pdf_responses(description: str) -> dict[int | str, dict[str, Any]]:
    """The 200 entry of a route that answers a PDF, so a generated client reads it as binary."""
    return {200: {"description": description, "content": _BINARY}}


def pdf_alternative(description: str) -> dict[int | str, dict[str, Any]]:
    """The 200 entry of a JSON route that also answers a PDF when `Accept: application/pdf`
    asks for it: FastAPI adds the JSON model's content beside it."""
    return {200: {"description": description, "content": _BINARY}}


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


def pdf_reply(content: bytes, *, filename: str) -> Response:
    """The PDF as a download named `filename` (anything but letters, digits, `._-` made `_`)."""
    safe = _UNSAFE_FILENAME.sub("_", filename)
    return Response(
        content,
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "Vary": "Accept",
        },
    )


# --- the document as data -------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    heading: str
    width: float  # share of the text width (the columns' widths are scaled to fill it)
    right: bool = False  # right-aligned (amounts)


@dataclass(frozen=True)
class Table:
    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: Sequence[str] = ()
    table: Table | None = None


@dataclass(frozen=True)
class Sheet:
    """One document. `dated` is its own date (release, issue), also the PDF's creation date:
    never the moment of the download, so the same document is the same bytes."""

    title: str
    fields: Sequence[tuple[str, str]]
    sections: Sequence[Section]
    footer: str
    dated: datetime
    kind: str = "Better Work"  # the line above the title


# --- drawing ----------------------------------------------------------------------------------


class _Page(FPDF):
    footer_text = ""
    writer: _Writer | None = None

    def footer(self) -> None:
        if self.writer is None:
            return
        self.set_draw_color(180, 180, 180)
        self.line(MARGIN, 297 - 14, PAGE_WIDTH - MARGIN, 297 - 14)
        self.set_text_color(110, 110, 110)
        number = f"page {self.page_no()}"
        room = TEXT_WIDTH - self.writer.width(number, "", 7.5) - 4
        self.writer.draw(
            MARGIN, 297 - 10, self.writer.wrap(self.footer_text, room, "", 7.5)[0], "", 7.5
        )
        self.writer.draw(PAGE_WIDTH - MARGIN - (TEXT_WIDTH - room - 4), 297 - 10, number, "", 7.5)
        self.set_text_color(0, 0, 0)


class _Writer:
    """Places wrapped text with `FPDF.text`, switching to a fallback font for the letters the
    body font lacks."""

    def __init__(self, pdf: _Page, fallbacks: list[str]) -> None:
        self.pdf = pdf
        self.fallbacks = fallbacks
        self.y = MARGIN
        self._widths: dict[tuple[str, str], float] = {}
        self._font: tuple[str, str, float] | None = None
        # One named group per loaded fallback: a run of its script's letters.
        self._fallback_runs = (
            re.compile(
                "|".join(f"(?P<{name}>{_FALLBACK_LETTERS[name].pattern}+)" for name in fallbacks)
            )
            if fallbacks
            else None
        )

    def font(self, style: str) -> TTFFont:
        font = self.pdf.fonts[f"body{style}"]
        assert isinstance(font, TTFFont)
        return font

    def _runs(self, text: str, style: str) -> Iterator[tuple[str, str, str]]:
        """(family, style, text) runs: the body font, or a fallback for its script's letters
        (fallbacks come in regular only)."""
        if self._fallback_runs is None:
            yield "body", style, text
            return
        start = 0
        for match in self._fallback_runs.finditer(text):
            if match.start() > start:
                yield "body", style, text[start : match.start()]
            yield str(match.lastgroup), "", match.group()
            start = match.end()
        if len(text) > start:
            yield "body", style, text[start:]

    def width(self, text: str, style: str, size: float) -> float:
        """Millimetres; the per-word cache is what makes a long report fast."""
        key = (style, text)
        cached = self._widths.get(key)
        if cached is None:
            cached = 0.0
            for family, run_style, run in self._runs(text, style):
                font = self.pdf.fonts[family + run_style]
                assert isinstance(font, TTFFont)
                cached += sum(font.cw[ord(c)] for c in run) * 0.001 * PT
            self._widths[key] = cached
        return cached * size

    def wrap(self, text: str, width: float, style: str = "", size: float = SIZE) -> list[str]:
        lines: list[str] = []
        for paragraph in text.replace("\t", " ").replace("\r\n", "\n").split("\n"):
            line, used = "", 0.0
            space = self.width(" ", style, size)
            for word in paragraph.split():
                for piece in self._pieces(word, width, style, size):
                    needed = self.width(piece, style, size)
                    if line and used + space + needed > width:
                        lines.append(line)
                        line, used = piece, needed
                    elif line:
                        line, used = f"{line} {piece}", used + space + needed
                    else:
                        line, used = piece, needed
            lines.append(line)
        return lines

    def _pieces(self, word: str, width: float, style: str, size: float) -> Iterator[str]:
        """A word wider than the line (an id, a URL) is cut where it reaches the edge."""
        if self.width(word, style, size) <= width:
            yield word
            return
        piece = ""
        for char in word:
            if piece and self.width(piece + char, style, size) > width:
                yield piece
                piece = ""
            piece += char
        if piece:
            yield piece

    def forget_font(self) -> None:
        self._font = None

    def draw(self, x: float, y: float, text: str, style: str = "", size: float = SIZE) -> None:
        """One line, its baseline at `y`."""
        for family, run_style, run in self._runs(text, style):
            if (family, run_style, size) != self._font:  # set_font costs: only on a change
                self.pdf.set_font(family, run_style, size)
                self._font = (family, run_style, size)
            self.pdf.text(x, y, run)
            x += self.width(run, style if family == "body" else "", size)

    def room(self, height: float) -> bool:
        """Whether `height` fits on this page; starts a new one when not."""
        if self.y + height <= BOTTOM:
            return True
        self.pdf.add_page()
        self.forget_font()
        self.y = MARGIN
        return False

    def block(self, text: str, *, style: str = "", size: float = SIZE, gap: float = 1.5) -> None:
        leading = size * PT * 1.3
        for line in self.wrap(text, TEXT_WIDTH, style, size):
            self.room(leading)
            self.y += leading
            self.draw(MARGIN, self.y - leading * 0.25, line, style, size)
        self.y += gap

    def fields(self, pairs: Sequence[tuple[str, str]]) -> None:
        label_width = 38.0
        for label, value in pairs:
            lines = self.wrap(value, TEXT_WIDTH - label_width)
            self.room(LEADING * len(lines))
            self.draw(MARGIN, self.y + LEADING * 0.75, label, "B")
            for line in lines:
                self.y += LEADING
                self.draw(MARGIN + label_width, self.y - LEADING * 0.25, line)
        self.y += 2

    def table(self, table: Table) -> None:
        total = sum(column.width for column in table.columns)
        widths = [column.width * TEXT_WIDTH / total for column in table.columns]
        self._row([column.heading for column in table.columns], table, widths, "B")
        for row in table.rows:
            if not self._row(row, table, widths, ""):
                # A new page began: repeat the headings above the row, then draw it there.
                self._row([column.heading for column in table.columns], table, widths, "B")
                self._row(row, table, widths, "")

    def _row(self, cells: Sequence[str], table: Table, widths: list[float], style: str) -> bool:
        """Draws the row, or starts a new page and returns False when it does not fit (a row
        taller than a page is drawn anyway, running over the footer rather than looping)."""
        wrapped = [
            self.wrap(text, width - 2 * CELL_PAD, style)
            for text, width in zip(cells, widths, strict=True)
        ]
        height = max(len(lines) for lines in wrapped) * LEADING + 2 * CELL_PAD
        if not self.room(height) and height <= BOTTOM - MARGIN:
            return False
        x = MARGIN
        if style:
            self.pdf.set_fill_color(235, 238, 242)
            self.pdf.rect(MARGIN, self.y, TEXT_WIDTH, height, style="F")
        for lines, width, column in zip(wrapped, widths, table.columns, strict=True):
            for number, line in enumerate(lines):
                left = x + CELL_PAD
                if column.right:
                    left = x + width - CELL_PAD - self.width(line, style, SIZE)
                baseline = self.y + CELL_PAD + (number + 1) * LEADING - LEADING * 0.25
                self.draw(left, baseline, line, style)
            x += width
        self.y += height
        self.pdf.set_draw_color(200, 200, 200)
        self.pdf.line(MARGIN, self.y, MARGIN + TEXT_WIDTH, self.y)
        return True


def _texts(sheet: Sheet) -> Iterator[str]:
    yield from (sheet.title, sheet.footer, sheet.kind)
    for label, value in sheet.fields:
        yield label
        yield value
    for section in sheet.sections:
        yield section.heading
        yield from section.paragraphs
        if section.table is not None:
            yield from (column.heading for column in section.table.columns)
            for row in section.table.rows:
                yield from row


_FALLBACK_LETTERS = {
    name: re.compile(f"[{chr(letters.start)}-{chr(letters.stop - 1)}]")
    for name, (_, letters) in FALLBACK_FONTS.items()
}


def _fallbacks_needed(sheet: Sheet) -> list[str]:
    text = "\n".join(_texts(sheet))
    return [name for name, letters in _FALLBACK_LETTERS.items() if letters.search(text)]


class _Drawn:
    """The PDFs this process drew last, by their sheet's digest. A released report never
    changes and is downloaded again and again (by the factory, by each buyer), and the same
    sheet always draws the same bytes (it carries its own date): the second download of a
    200-finding report costs a hash instead of a drawing. A changed fact (a renamed factory,
    a paid invoice) is another sheet."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()  # rendering runs in the thread pool

    def get(self, key: bytes) -> bytes | None:
        with self._lock:
            content = self._items.get(key)
            if content is not None:
                self._items.move_to_end(key)
            return content

    def put(self, key: bytes, content: bytes) -> None:
        with self._lock:
            self._items[key] = content
            while len(self._items) > self.size:
                self._items.popitem(last=False)


DRAWN = _Drawn(size=64)  # at most a few MiB: a 200-finding report is about 60 KiB


def render(sheet: Sheet) -> bytes:
    """The sheet as PDF bytes (drawn, or the same bytes drawn before)."""
    key = hashlib.sha256(repr(sheet).encode()).digest()
    content = DRAWN.get(key)
    if content is None:
        content = _draw(sheet)
        DRAWN.put(key, content)
    return content


def _draw(sheet: Sheet) -> bytes:
    pdf = _Page(format="A4", unit="mm")
    pdf.footer_text = sheet.footer
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(False)  # the writer breaks pages itself
    pdf.set_creation_date(sheet.dated)
    pdf.set_title(sheet.title)
    pdf.set_author("Better Work")
    pdf.set_creator("Better Work buyer-engagement API")
    for style, filename in BODY_FONTS.items():
        pdf.add_font("body", style, str(FONT_DIR / filename))
    fallbacks = _fallbacks_needed(sheet)
    for name in fallbacks:
        pdf.add_font(name, "", str(FONT_DIR / FALLBACK_FONTS[name][0]))
    writer = _Writer(pdf, fallbacks)
    pdf.writer = writer
    pdf.add_page()
    pdf.set_text_color(90, 90, 90)
    writer.block(sheet.kind, size=8, gap=0.5)
    pdf.set_text_color(0, 0, 0)
    writer.block(sheet.title, style="B", size=15, gap=3)
    writer.fields(sheet.fields)
    for section in sheet.sections:
        writer.y += 2
        writer.room(14)
        writer.block(section.heading, style="B", size=11.5, gap=1)
        for paragraph in section.paragraphs:
            writer.block(paragraph)
        if section.table is not None:
            writer.table(section.table)
    return bytes(pdf.output())
