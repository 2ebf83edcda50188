"""Python-side texts in the reader's language: gettext catalogs (portal/languages/locale/<lang>/LC_MESSAGES).

Write a text as `t.gettext("…")` (or `ngettext`) where `t = texts(language)`, so that `make catalogs` (Babel's
extract) finds it; a text defined before a language is known is marked with `N_("…")` and translated where it is
shown. English is the source: it needs no catalog. The .po files are read and compiled in memory the first time a
language is used (Babel's read_po/write_mo), so no generated .mo file is kept in the repository.
"""

from __future__ import annotations

import functools
import io
from datetime import date, datetime
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from portal import dates
from portal.languages import DEFAULT_LANGUAGE, LOCALES, N_, Language, language_of

__all__ = ["N_", "Texts", "texts"]

DOMAIN: Final = "chargedesk"
LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"


def catalog_path(language: Language, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


class Texts:
    """The texts, dates and numbers of one language."""

    def __init__(self, language: Language, translations: NullTranslations) -> None:
        self.language: Language = language
        self.locale = LOCALES[language]
        self._translations = translations

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def day(self, value: date | datetime) -> str:
        """A day as it is written in this language ("1 February 2027", "1 februari 2027")."""
        return dates.day(value, self.language)

    def moment(self, value: datetime) -> str:
        """A moment in UTC as it is written in this language ("1 February 2027, 14:05 UTC")."""
        return dates.moment(value, self.language)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)


@functools.cache
def texts(language: object = DEFAULT_LANGUAGE) -> Texts:
    """The texts of `language` (a tag or locale; anything else means English)."""
    return load_texts(language, LOCALE_DIR)


def load_texts(language: object, locale_dir: Path) -> Texts:
    """The texts of `language` from the catalogs under `locale_dir` (`texts` reads the package's own, once)."""
    chosen = language_of(language) or DEFAULT_LANGUAGE
    path = catalog_path(chosen, locale_dir)
    if chosen == DEFAULT_LANGUAGE or not path.exists():
        return Texts(chosen, NullTranslations())
    with path.open("rb") as source:
        catalog = read_po(source, locale=LOCALES[chosen], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Texts(chosen, Translations(compiled, domain=DOMAIN))
