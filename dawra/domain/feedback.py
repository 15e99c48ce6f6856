"""What a customer thought of an order, asked once after the last parcel arrived, and the figures the operations
view draws from the answers: the average rating and the Net Promoter Score. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.customer import typed_text

COMMENT_MAX = 1000  # characters; a timeline event item stays well under DynamoDB's 400 KB


class Feedback(BaseModel):
    """One answer per order: a rating (1-5), how likely they are to recommend the shop (0-10), and a comment."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)

    rating: int = Field(ge=1, le=5)
    recommend: int = Field(ge=0, le=10)
    comment: Annotated[str, typed_text(COMMENT_MAX)] | None = None

    def detail(self) -> dict[str, str]:
        """How the answer rides on its timeline event (string values, like every event's detail)."""
        return {"rating": str(self.rating), "recommend": str(self.recommend),
                **({"comment": self.comment} if self.comment else {})}

    @classmethod
    def from_detail(cls, detail: Mapping[str, str]) -> Feedback:
        return cls(rating=int(detail["rating"]), recommend=int(detail["recommend"]), comment=detail.get("comment"))


class FeedbackFigures(BaseModel):
    """Answers given in the window. NPS = % promoters (9-10) - % detractors (0-6), -100..100, None with no answers."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    responses: int
    average_rating: float | None  # 1..5, two decimals
    ratings: dict[int, int]  # rating -> how many (every rating 1..5 listed)
    promoters: int
    passives: int
    detractors: int
    nps: int | None


def feedback_figures(answers: Iterable[Feedback]) -> FeedbackFigures:
    answers = list(answers)
    ratings = {rating: sum(1 for a in answers if a.rating == rating) for rating in range(1, 6)}
    promoters = sum(1 for a in answers if a.recommend >= 9)
    detractors = sum(1 for a in answers if a.recommend <= 6)
    count = len(answers)
    return FeedbackFigures(
        responses=count,
        average_rating=round(sum(a.rating for a in answers) / count, 2) if count else None,
        ratings=ratings, promoters=promoters, passives=count - promoters - detractors, detractors=detractors,
        # Integer arithmetic, rounded half away from zero: the same figure on every machine.
        nps=_rounded_percent(promoters - detractors, count) if count else None)


def _rounded_percent(part: int, whole: int) -> int:
    sign = -1 if part < 0 else 1
    return sign * ((abs(part) * 200 + whole) // (2 * whole))
