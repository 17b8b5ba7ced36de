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
  OFL.txt sits beside it;
- writes the outlines of the few characters a chart's axis labels use (digits, minus sign, decimal point, and
  the capital letters of visit codes) to tick-glyphs.json, from the shipped regular font: the charts draw
  their labels as paths, because every SVG text element costs WeasyPrint a text layout and an embedded font
  run, which made up much of a summary's time.
  `--tick-glyphs` rewrites only that file.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from fontTools import subset
from fontTools.pens.basePen import BasePen
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
TICK_CHARACTERS = "0123456789-.ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TICK_GLYPHS = TARGET / "tick-glyphs.json"


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


class OutlinePen(BasePen):
    """Records a glyph as flat path commands: ["M", x, y], ["L", x, y], ["Q", x1, y1, x, y], ["Z"]."""

    def __init__(self, glyph_set: object) -> None:
        super().__init__(glyph_set)
        self.commands: list[list[str | float]] = []

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.commands.append(["M", *pt])

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.commands.append(["L", *pt])

    def _qCurveToOne(self, pt1: tuple[float, float], pt2: tuple[float, float]) -> None:
        self.commands.append(["Q", *pt1, *pt2])

    def _curveToOne(self, *points: tuple[float, float]) -> None:
        raise ValueError("a TrueType font has quadratic outlines only")

    def _closePath(self) -> None:
        self.commands.append(["Z"])


#: Outline simplification tolerance in font units. A chart label is 7 units of a 180-unit-wide chart printed
#: about 58 mm wide, so one font unit is about 0.0023 mm on paper: 20 units (0.05 mm) are about one dot of a
#: 600 dpi printer.
TOLERANCE = 20


def _distance_to_line(point: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    (px, py), (ax, ay), (bx, by) = point, a, b
    length = math.hypot(bx - ax, by - ay)
    if length == 0:
        return math.hypot(px - ax, py - ay)
    return abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length


def simplify(commands: list[list[str | float]], tolerance: float = TOLERANCE) -> list[list[str | float]]:
    """Fewer points for the same shape on paper: a quadratic curve that stays within ``tolerance`` of its
    chord becomes a line, and a line corner that bends by less than ``tolerance`` is dropped. The glyphs'
    tiny rounded corners and split curves cost WeasyPrint drawing time per point and show at no print size."""
    contours: list[list[list[str | float]]] = []
    for command in commands:
        if command[0] == "M":
            contours.append([command])
        elif command[0] != "Z":
            contours[-1].append(command)
    simplified: list[list[str | float]] = []
    for contour in contours:
        current = (float(contour[0][1]), float(contour[0][2]))
        if (float(contour[-1][-2]), float(contour[-1][-1])) != current:
            contour.append(["L", *current])  # close explicitly: the start point may go like any other
        segments: list[list[str | float]] = []
        for command in contour[1:]:
            end = (float(command[-2]), float(command[-1]))
            if command[0] == "Q":
                control = (float(command[1]), float(command[2]))
                if _distance_to_line(control, current, end) / 2 <= tolerance:
                    command = ["L", *end]
            segments.append(command)
            current = end
        changed = True
        while changed:  # drop nearly straight line corners, one at a time, until none is left
            changed = False
            points = [(float(c[-2]), float(c[-1])) for c in segments]
            for i, command in enumerate(segments):
                after = segments[(i + 1) % len(segments)]
                straight = command[0] == after[0] == "L" and len(segments) > 3
                if (
                    straight
                    and _distance_to_line(points[i], points[i - 1], points[(i + 1) % len(points)])
                    <= tolerance
                ):
                    del segments[i]
                    changed = True
                    break
        start = segments[-1][-2:]
        simplified += [["M", *start], *segments, ["Z"]]
    return simplified


def tick_glyphs() -> dict[str, object]:
    """The outlines of TICK_CHARACTERS in the shipped regular font, in font units, simplified."""
    font = TTFont(str(TARGET / "EproGothic-Regular.ttf"))
    cmap, glyph_set = font.getBestCmap(), font.getGlyphSet()
    glyphs = {}
    for character in TICK_CHARACTERS:
        glyph = glyph_set[cmap[ord(character)]]
        pen = OutlinePen(glyph_set)
        glyph.draw(pen)
        glyphs[character] = {"advance": glyph.width, "path": simplify(pen.commands)}
    return {"units_per_em": font["head"].unitsPerEm, "glyphs": glyphs}


def write_tick_glyphs() -> Path:
    TICK_GLYPHS.write_text(json.dumps(tick_glyphs()) + "\n")
    return TICK_GLYPHS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/usr/share/fonts/truetype/nanum"))
    parser.add_argument("--tick-glyphs", action="store_true", help="only rewrite tick-glyphs.json")
    args = parser.parse_args()
    if not args.tick_glyphs:
        for style, filename in SOURCES.items():
            target = make(args.source / filename, style)
            print(f"{target.relative_to(ROOT)}: {target.stat().st_size / 1024:.0f} KiB")
    target = write_tick_glyphs()
    print(f"{target.relative_to(ROOT)}: {target.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
