"""Rendering the summary: (report, edition) -> HTML -> PDF bytes, with WeasyPrint.

Every summary is PDF/A-3b (archival: fonts embedded, sRGB output intent, XMP identification) and tagged
for accessibility (structure tree, document language). With a certification it also carries a document
identifier (the PDF /ID and the XMP dc:identifier), a signature block, and the patient's data as an
embedded CSV file (PDF/A-3 allows attachments; its relationship to the document is "Data").

The renderer fetches nothing but its own assets: the shipped fonts, the print stylesheet, and the charts,
which come inline as ``data:image/svg+xml;base64`` URIs. Any other URL (network, another data: type, or a
file: path elsewhere) is refused. The parsed stylesheets and the font configuration
are made once per process and reused, which keeps each render fast.
"""

from __future__ import annotations

import base64
import binascii
import io
import mimetypes
import threading
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from flask import render_template
from flask_babel import force_locale
from weasyprint import CSS, HTML, Attachment
from weasyprint.css import ColorProfile
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from epro.certified.certification import Certification
from epro.reports.context import Report
from epro.reports.view import ReportView

HERE = Path(__file__).resolve().parent
FONTS = HERE / "fonts"
FONT_FILES = {("normal", FONTS / "EproGothic-Regular.ttf"), ("bold", FONTS / "EproGothic-Bold.ttf")}
PRINT_CSS = HERE.parent.parent / "templates" / "pdf" / "summary.css"
FONT_FAMILY = "Epro Gothic"

_render_lock = threading.Lock()


SVG_DATA = "data:image/svg+xml;base64,"
PDF_VARIANT = "pdf/a-3b"
OUTPUT_INTENT = "epro-srgb"


class AssetFetcher(URLFetcher):
    """Serves only the listed files, from disk, and inline SVG images; refuses every other URL."""

    def __init__(self, allowed: set[Path]) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.allowed = frozenset(path.resolve() for path in allowed)

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith(SVG_DATA):
            return self._inline_svg(url)
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"the report renderer fetches only its own assets, not {url}")
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if path not in self.allowed:
            raise ValueError(f"the report renderer fetches only its own assets, not {url}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})

    @staticmethod
    def _inline_svg(url: str) -> URLFetcherResponse:
        """An SVG image carried in the URL itself (a chart). Only an SVG document: WeasyPrint would hand any
        other bytes to its raster decoder."""
        try:
            body = base64.b64decode(url[len(SVG_DATA) :], validate=True)
        except binascii.Error as error:
            raise ValueError("the report renderer takes only well-formed inline SVG images") from error
        if not body.startswith(b"<svg "):
            raise ValueError("the report renderer takes only well-formed inline SVG images")
        return URLFetcherResponse(url, body=body, headers={"Content-Type": "image/svg+xml"})


def asset_fetcher() -> AssetFetcher:
    return AssetFetcher({path for _weight, path in FONT_FILES} | {PRINT_CSS})


def font_faces_css() -> str:
    return "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; font-style: normal; '
        f'src: url("{path.as_uri()}") format("truetype"); }}'
        for weight, path in sorted(FONT_FILES)
    )


@cache
def _resources() -> tuple[FontConfiguration, AssetFetcher, list[CSS]]:
    """Font configuration and parsed stylesheets, made on first use and shared by every render."""
    font_config = FontConfiguration()
    fetcher = asset_fetcher()
    stylesheets = [
        CSS(string=font_faces_css(), font_config=font_config, url_fetcher=fetcher),
        CSS(filename=str(PRINT_CSS), font_config=font_config, url_fetcher=fetcher),
    ]
    return font_config, fetcher, stylesheets


def render_html(report: Report, edition: str, certification: Certification | None = None) -> str:
    """The summary as an HTML document (needs an app context)."""
    view = ReportView.for_edition(edition, printed=True)
    with force_locale(view.html_lang):
        return render_template(
            "pdf/summary.html", report=report, view=view, _=view.gettext, certification=certification
        )


#: WeasyPrint's finisher: called with the document and the pydyf PDF before it is written (neither typed).
Finisher = Callable[[Any, Any], None]


def _xmp_identifier(urn: str) -> Finisher:
    """A finisher that adds the document identifier to the XMP packet WeasyPrint wrote (in its one
    rdf:RDF element, as XMP requires): dc:identifier and xmpMM:DocumentID."""
    description = (
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"><dc:identifier>{urn}</dc:identifier>'
        f"<xmpMM:DocumentID>{urn}</xmpMM:DocumentID></rdf:Description>"
    ).encode()

    def finish(_document: Any, pdf: Any) -> None:
        reference = pdf.catalog["Metadata"]
        reference = int((reference.decode() if isinstance(reference, bytes) else str(reference)).split()[0])
        stream = pdf.objects[reference]
        packet = b"".join(stream.stream)
        stream.stream = [packet.replace(b"</rdf:RDF>", description + b"</rdf:RDF>", 1)]

    return finish


@cache
def _srgb_icc() -> bytes:
    return (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()


def _output_intent() -> dict[str, ColorProfile]:
    """PDF/A's sRGB output intent, from bytes we read and closed: WeasyPrint's own "srgb" intent leaves the
    profile file open on every render (a ResourceWarning)."""
    profile = ColorProfile(
        io.BytesIO(_srgb_icc()), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"])
    )
    return {OUTPUT_INTENT: profile}


def html_to_pdf(html: str, certification: Certification | None = None) -> bytes:
    font_config, fetcher, stylesheets = _resources()
    options: dict[str, object] = {
        "pdf_variant": PDF_VARIANT,
        "pdf_tags": True,
        "output_intent": OUTPUT_INTENT,
    }
    if certification is not None:
        options["pdf_identifier"] = certification.document_id.encode("ascii")
        options["attachments"] = [
            Attachment(
                string=certification.attachment,
                name=certification.attachment_name,
                description="Patient data, long format (CSV, UTF-8)",
                relationship="Data",
            )
        ]
        options["finisher"] = _xmp_identifier(certification.urn)
    finisher = options.pop("finisher", None)
    with _render_lock:
        document = HTML(string=html, url_fetcher=fetcher).render(
            stylesheets=stylesheets, font_config=font_config, color_profiles=_output_intent(), **options
        )
        pdf: bytes = document.write_pdf(finisher=finisher, **options)
        return pdf


def render_pdf(report: Report, edition: str, certification: Certification | None = None) -> bytes:
    return html_to_pdf(render_html(report, edition, certification), certification)


def pdf_filename(report: Report, edition: str) -> str:
    return f"summary-{report.study_id}-{edition}.pdf"
