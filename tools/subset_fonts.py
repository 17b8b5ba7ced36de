"""Make the report fonts shipped in epro/reports/fonts/ from Nanum Gothic (SIL OFL 1.1).

Run from the repository root (needs Debian's fonts-nanum and the fonttools package):

    python tools/subset_fonts.py [--source /usr/share/fonts/truetype/nanum]

What it does, and why:
- keeps only the characters a report can show: every precomposed Hangul syllable (U+AC00-D7A3, all 11,172),
  Hangul compatibility jamo, Basic Latin and Latin-1, general punctuation, CJK symbols and punctuation, and the
  few symbols the report uses (arrows, triangles, Greek capital delta, comparison signs, ...);
- drops the TrueType hinting (fpgm, prep, cvt, glyph instructions) and the VTT source tables: a PDF viewer does
  not need them, and a smaller font makes WeasyPrint faster and the PDF smaller;
- renames the family to "Epro Gothic": under the OFL a modified version (a subset is one) must not carry the
  Reserved Font Names ("Nanum", "NanumGothic", ...). The copyright notice and the licence stay in the font, and
  OFL.txt sits beside it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "epro" / "reports" / "fonts"
FAMILY = "Epro Gothic"
SOURCES = {"Regular": "NanumGothic.ttf", "Bold": "NanumGothicBold.ttf"}
OFL_URL = "https://openfontlicense.org"

UNICODE_RANGES = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x2000, 0x206F),  # General Punctuation
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0x3131, 0x318E),  # Hangul Compatibility Jamo
    (0xAC00, 0xD7A3),  # Hangul Syllables (all 11,172)
]
SYMBOLS = "Δ←↑→↓≤≥■□▲△▼▽◆◇○●"


def unicodes() -> list[int]:
    points = {cp for start, end in UNICODE_RANGES for cp in range(start, end + 1)}
    points.update(ord(ch) for ch in SYMBOLS)
    return sorted(points)


def rename(font: TTFont, style: str) -> None:
    name = font["name"]
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    original_version = name.getDebugName(5) or ""
    keep = {0, 5, 7, 8, 9, 11, 12}
    name.names = [record for record in name.names if record.nameID in keep and record.langID in (0, 0x409)]
    for name_id, value in {
        1: FAMILY,
        2: style,
        3: f"{postscript};epro subset",
        4: f"{FAMILY} {style}" if style != "Regular" else FAMILY,
        6: postscript,
        10: f"Subset of NanumGothic ({original_version}) made for epro's reports by tools/subset_fonts.py.",
        13: "This Font Software is licensed under the SIL Open Font License, Version 1.1.",
        14: OFL_URL,
        16: FAMILY,
        17: style,
    }.items():
        name.setName(value, name_id, 3, 1, 0x409)
        name.setName(value, name_id, 1, 0, 0)


def make(source: Path, style: str) -> Path:
    options = subset.Options()
    options.hinting = False
    options.drop_tables += ["TSI0", "TSI1", "TSI2", "TSI3", "TSI5", "DSIG"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes())
    subsetter.subset(font)
    rename(font, style)
    target = TARGET / f"EproGothic-{style}.ttf"
    font.save(str(target))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/usr/share/fonts/truetype/nanum"))
    args = parser.parse_args()
    for style, filename in SOURCES.items():
        target = make(args.source / filename, style)
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
