"""WTForms' SelectChoice (new in WTForms 3.3), imported once: types-wtforms 3.2 does not know it yet."""

from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stub gap: not in types-wtforms 3.2

__all__ = ["SelectChoice"]
