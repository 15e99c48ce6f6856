"""The console's words in English and Arabic: one JSON catalog per language (dawra/web/i18n/<lang>.json), the same
keys in both (a test holds them to it and to every key the templates use).

`{name}` placeholders are filled with text that has already been formatted for the reader (numbers in their digits);
the result is plain text, escaped by the template like everything else.

The customer's order page has a catalog pair of its own (`book="customer"`: dawra/web/i18n/customer/<lang>.json),
in the words a customer uses rather than an operator's."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from dawra.web.formatting import LANGUAGES, Language


@cache
def catalog(language: Language, book: str = "") -> dict[str, str]:
    folder = resources.files("dawra.web").joinpath("i18n")
    text = (folder.joinpath(book) if book else folder).joinpath(f"{language}.json").read_text(encoding="utf-8")
    loaded: dict[str, str] = json.loads(text)
    return loaded


def all_catalogs(book: str = "") -> dict[Language, dict[str, str]]:
    return {language: catalog(language, book) for language in LANGUAGES}


class Translator:
    def __init__(self, language: Language, book: str = ""):
        self.language = language
        self._words = catalog(language, book)
        self._fallback = catalog("en", book)

    def __call__(self, key: str, **values: object) -> str:
        text = self._words.get(key) or self._fallback.get(key) or key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._words
