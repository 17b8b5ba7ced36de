"""Bilingual text from data files (instruments, protocols): one string per supported language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from epro.codes import LANGUAGES


@dataclass(frozen=True, slots=True)
class Text:
    ko: str
    en: str

    def __call__(self, language: str) -> str:
        return self.en if language == "en" else self.ko

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> Text:
        missing = [lang for lang in LANGUAGES if not str(raw.get(lang, "")).strip()]
        if missing:
            raise ValueError(f"{where}: missing text in {', '.join(missing)}")
        return cls(ko=raw["ko"], en=raw["en"])
