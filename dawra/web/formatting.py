"""Numbers, money, percentages and times as an operator reads them, in English or Arabic (CLDR data via Babel).

Arabic-Indic digits (U+0660..U+0669) are a per-operator setting: Babel's numbering system "arab" gives the Arabic
separators (U+066C for thousands, U+066B for decimals), and the digits themselves are mapped here, because Babel
leaves them Latin. Times are shown in UTC, labelled as such."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_precision

from dawra.domain.money import Money

Language = Literal["en", "ar"]
Digits = Literal["latn", "arab"]
LANGUAGES: tuple[Language, ...] = ("en", "ar")
DIGITS: tuple[Digits, ...] = ("latn", "arab")
ARABIC_INDIC_DIGITS = "".join(chr(0x0660 + digit) for digit in range(10))
_ARABIC_INDIC = str.maketrans("0123456789", ARABIC_INDIC_DIGITS)
_LOCALE = {"en": "en", "ar": "ar_SA"}


def language_or_default(value: str | None, default: Language = "en") -> Language:
    return "ar" if value == "ar" else "en" if value == "en" else default


def digits_or_default(value: str | None) -> Digits:
    return "arab" if value == "arab" else "latn"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class Formatter:
    """One operator's way of reading figures: their language and whether digits are Arabic-Indic."""

    language: Language = "en"
    digits: Digits = "latn"

    @property
    def locale(self) -> str:
        return _LOCALE[self.language]

    @property
    def direction(self) -> str:
        return "rtl" if self.language == "ar" else "ltr"

    def _digits(self, text: str) -> str:
        return text.translate(_ARABIC_INDIC) if self.digits == "arab" else text

    def digits_of(self, value: object) -> str:
        """Any text with numbers in it (an id, a quantity) in the operator's digits."""
        return self._digits(str(value))

    def number(self, value: int | float | Decimal) -> str:
        return self._digits(format_decimal(value, locale=self.locale, numbering_system=self.digits))

    def money(self, money: Money) -> str:
        """Minor units to the currency's own precision (KWD has three decimals, SAR two)."""
        amount = Decimal(money.amount).scaleb(-get_currency_precision(money.currency))
        # English CLDR writes "SAR12.00"; a no-break space reads better. Arabic keeps its own pattern.
        pattern = "\u00a4\u00a0#,##0.00" if self.language == "en" else None
        return self._digits(format_currency(amount, money.currency, format=pattern, locale=self.locale,
                                            numbering_system=self.digits))

    def minor(self, amount: int, currency: str) -> str:
        return self.money(Money(amount=amount, currency=currency))

    def percent(self, ratio: float | None) -> str:
        if ratio is None:
            return "—"
        return self._digits(format_percent(ratio, format="#,##0.0%", locale=self.locale,
                                           numbering_system=self.digits))

    def duration(self, seconds: float | None) -> str:
        """A stage's duration, in the largest unit that keeps it readable (hours, minutes or seconds)."""
        if seconds is None:
            return "—"
        units = {"en": ("h", "min", "s"), "ar": ("س", "د", "ث")}[self.language]
        if seconds >= 3600:
            return f"{self.number(round(seconds / 3600, 1))} {units[0]}"
        if seconds >= 60:
            return f"{self.number(round(seconds / 60, 1))} {units[1]}"
        return f"{self.number(round(seconds, 1))} {units[2]}"

    def when(self, value: str | None) -> str:
        """A stored UTC ISO-8601 time, in the operator's language."""
        if not value:
            return "—"
        try:
            moment = parse_time(value)
        except ValueError:
            return value
        text = format_datetime(moment, "medium", tzinfo=UTC, locale=self.locale)
        return self._digits(text) + " UTC"

    def weekday(self, value: str | date | None) -> str:
        """A day soon, with its weekday and no year ("Sunday 29 November", "الأحد، 29 نوفمبر"): a pickup day."""
        return self._calendar_day(value, "EEEE، d MMMM" if self.language == "ar" else "EEEE d MMMM")

    def day(self, value: str | date | None) -> str:
        return self._calendar_day(value, "medium")

    def _calendar_day(self, value: str | date | None, pattern: str) -> str:
        """A day (an ISO date, or the date part of an ISO time) in the pattern; "—" for none, as given if unreadable."""
        if not value:
            return "—"
        try:
            moment = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        except ValueError:
            return str(value)
        return self._digits(format_date(moment, pattern, locale=self.locale))
