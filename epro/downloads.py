"""Downloads: Content-Disposition safe for any file name (RFC 6266 with RFC 5987 encoding), zip archives.

A name with non-ASCII characters (a study ID typed in full-width digits, a Korean name) in a plain
`filename="..."` is an invalid header: gunicorn refuses it (500) and the dev server hangs. This is what
werkzeug's send_file does for `download_name`, for responses that are streamed rather than sent as files.
"""

from __future__ import annotations

import unicodedata
from typing import IO
from urllib.parse import quote

from flask import Response, send_file


def attachment(filename: str) -> str:
    """`attachment; filename="..."` with an ASCII fallback and, when needed, `filename*=UTF-8''...`."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(ch for ch in fallback if ch.isprintable() and ch not in '"\\') or "download"
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def zip_download(archive: IO[bytes], filename: str) -> Response:
    """A finished zip archive (rewound here) as an attachment that no cache keeps: it holds patient data."""
    archive.seek(0)
    response = send_file(archive, mimetype="application/zip", as_attachment=True, download_name=filename)
    response.headers["Cache-Control"] = "no-store"
    return response
