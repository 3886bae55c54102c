"""Reading a PDF the way a person would: its first page drawn as a PNG (`pdftoppm`) and its
text (`pdftotext`), both from Debian's poppler-utils (deploy/system-packages.txt)."""

from __future__ import annotations

import subprocess
import tempfile
from io import BytesIO
from pathlib import Path

import httpx
from PIL import Image

__all__ = ["assert_pdf", "first_page", "pdf_text"]


def pdf_text(content: bytes, *, layout: bool = False) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(content)
        args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
        return subprocess.run(args, check=True, capture_output=True, timeout=30).stdout.decode()


def first_page(content: bytes) -> Image.Image:
    """Page 1 at 50 dpi; poppler fails on a PDF it cannot read."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(content)
        args = ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), f"{folder}/page"]
        subprocess.run(args, check=True, capture_output=True, timeout=30)
        (png,) = Path(folder).glob("page*.png")
        image = Image.open(BytesIO(png.read_bytes()))
        image.load()
        return image


def assert_pdf(reply: httpx.Response) -> str:
    """A PDF download that poppler draws with ink on page 1; returns its text."""
    assert reply.status_code == 200, f"{reply.status_code}: {reply.text[:500]}"
    assert reply.headers["content-type"] == "application/pdf"
    assert reply.headers["content-disposition"].startswith("attachment; filename=")
    assert reply.content.startswith(b"%PDF-")
    page = first_page(reply.content).convert("L")
    assert page.width > 300 and page.height > 400  # A4 portrait at 50 dpi: 413 x 585
    dark = sum(page.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 500, "page 1 is blank"
    return pdf_text(reply.content)
