"""The rubric's required comments: low marks and a request for changes must say why."""

from app.review.schemas import ReviewIn
from app.review.verdicts import rubric_problems


def test_low_marks_and_changes_requested_need_comments():
    marks = {"likeness": 2, "consistency": 4, "flexibility": 1, "image_quality": 4}
    missing = rubric_problems(ReviewIn(scores=marks, verdict="changes_requested", comment=""))
    assert len(missing) == 3 and "Likeness got 2/5" in missing[0]
    done = ReviewIn(
        scores=marks,
        verdict="changes_requested",
        comment="Fewer epochs.",
        comments={"likeness": "Nose drifts.", "flexibility": "Ignores the beach."},
    )
    assert rubric_problems(done) == []
    assert (
        rubric_problems(ReviewIn(scores={**marks, "likeness": 3, "flexibility": 3}, verdict="approved")) == []
    )
