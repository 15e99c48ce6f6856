"""The console's words in English and Arabic: one JSON catalog per language (dawra/web/i18n/<lang>.json), the same
keys in both (a test holds them to it and to every key the templates use).

`{name}` placeholders are filled with text that has already been formatted for the reader (numbers in their digits);
the result is plain text, escaped by the template like everything else."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from dawra.web.formatting import LANGUAGES, Language


@cache
def catalog(language: Language) -> dict[str, str]:
    text = resources.files("dawra.web").joinpath("i18n", f"{language}.json").read_text(encoding="utf-8")
    loaded: dict[str, str] = json.loads(text)
    return loaded


def all_catalogs() -> dict[Language, dict[str, str]]:
    return {language: catalog(language) for language in LANGUAGES}


class Translator:
    def __init__(self, language: Language):
        self.language = language
        self._words = catalog(language)
        self._fallback = catalog("en")

    def __call__(self, key: str, **values: object) -> str:
        text = self._words.get(key) or self._fallback.get(key) or key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._words
