"""Make the screen fonts in static/fonts/ (WOFF2) from the report fonts in epro/reports/fonts/ (Epro Gothic,
a renamed subset of Nanum Gothic under the SIL OFL 1.1; OFL.txt is copied beside the WOFF2 files).

Run from the repository root (needs fonttools and brotli, in the [build] extra):  python tools/web_fonts.py

Screens get one family for Hangul, digits and Latin, served by the app, so every tablet shows the same text.
To keep page weight small it holds the 2,350 Hangul syllables of KS X 1001 (every syllable in ordinary use,
what EUC-KR can encode), Hangul compatibility jamo, Basic Latin, Latin-1 and the punctuation and symbols the
screens use. A rare syllable outside KS X 1001 falls back to the next font of the stylesheet's stack.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "epro" / "reports" / "fonts"
TARGET = ROOT / "static" / "fonts"
WEIGHTS = {"Regular": "epro-gothic-regular.woff2", "Bold": "epro-gothic-bold.woff2"}

RANGES = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1
    (0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
    (0x2030, 0x203A),
    (0x2190, 0x2193),  # arrows
    (0x2212, 0x2212),  # minus sign
    (0x25CB, 0x25CF),  # circles (status symbols)
    (0x2713, 0x2713),  # check mark
    (0x00D7, 0x00D7),  # multiplication sign
    (0x3000, 0x303F),  # CJK punctuation
    (0x3131, 0x318E),  # Hangul compatibility jamo
]


def ks_x_1001_syllables() -> list[int]:
    """The Hangul syllables EUC-KR (KS X 1001) can encode: 2,350 of the 11,172."""
    found = []
    for code in range(0xAC00, 0xD7A4):
        try:
            chr(code).encode("euc_kr")
        except UnicodeEncodeError:
            continue
        found.append(code)
    return found


def build() -> dict[str, int]:
    TARGET.mkdir(parents=True, exist_ok=True)
    codepoints = [c for start, end in RANGES for c in range(start, end + 1)] + ks_x_1001_syllables()
    sizes = {}
    for weight, name in WEIGHTS.items():
        font = TTFont(SOURCE / f"EproGothic-{weight}.ttf")
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=codepoints)
        subsetter.subset(font)
        out = TARGET / name
        font.flavor = "woff2"
        font.save(out)
        sizes[name] = out.stat().st_size
    shutil.copy(SOURCE / "OFL.txt", TARGET / "OFL.txt")
    return sizes


if __name__ == "__main__":
    for file, size in build().items():
        print(f"{file}: {size / 1024:.0f} KiB")
