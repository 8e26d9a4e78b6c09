"""Files that stand for what people really upload: good ones and every kind of bad one."""

import io
import os

from PIL import Image
from pypdf import PdfReader, PdfWriter

from assistant.widget.demo import DEMO_KNOWLEDGE_DIR


def demo_pdf_path():
    return sorted(DEMO_KNOWLEDGE_DIR.glob("*.pdf"))[0]


def png() -> bytes:
    """A small real image, as an avatar."""
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "#2f6b3a").save(image, "PNG")
    return image.getvalue()


def pdf_with_password() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(demo_pdf_path()))
    writer.encrypt("owner-only-secret")
    return _written(writer)


def pdf_without_text_layer() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_blank_page(width=612, height=792)
    return _written(writer)


def pdf_corrupt() -> bytes:
    data = demo_pdf_path().read_bytes()
    return data[: len(data) // 3]


def binary_data() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + os.urandom(4096)


def _written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
