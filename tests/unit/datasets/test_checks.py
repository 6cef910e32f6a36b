"""The checks on real photos: a good set of one person passes; each flaw is caught by its code."""

import pytest

from app.trainer.photos import checks
from tests import dataset_photos as dp


@pytest.fixture(scope="module")
def good():
    return dp.good_set(12)


@pytest.fixture(scope="module")
def good_analyses(good):
    return [checks.analyze_photo(im, filename=f"good_{i}.jpg") for i, im in enumerate(good)]


def codes(analysis):
    return {p.code for p in analysis.problems if p.severity == "error"}


def test_good_set_is_usable(good_analyses):
    report = checks.check_set([checks.PhotoAnalysis.from_dict(a.to_dict()) for a in good_analyses])
    assert [a.filename for a in report.photos if not a.accepted] == []
    assert report.usable
    assert report.summary.startswith("12 usable photos: 12 front, 0 three-quarter, 0 profile; add")
    assert {p.code for p in report.problems} >= {"few", "same_angle"}
    assert all(p.severity == "warning" for p in report.problems)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (dp.with_second_face, "multiple_faces"),
        (dp.with_sunglasses, "eyes_hidden"),
        (dp.blurred, "blurry"),
        (dp.tiny, "low_resolution"),
    ],
)
def test_each_flaw_is_rejected_with_its_code(good, make, code):
    analysis = checks.analyze_photo(make(good[1]), filename="flawed.jpg")
    assert code in codes(analysis)
    assert not analysis.accepted
    problem = next(p for p in analysis.problems if p.code == code)
    assert problem.message and problem.lesson in (1, 4)


def test_a_different_person_is_rejected_from_the_set(good_analyses):
    stranger = checks.analyze_photo(dp.other_person(), filename="stranger.jpg")
    assert stranger.accepted  # alone it is a fine photo
    photos = [checks.PhotoAnalysis.from_dict(a.to_dict()) for a in good_analyses] + [stranger]
    report = checks.check_set(photos)
    rejected = {a.filename: codes(a) for a in report.photos if not a.accepted}
    assert rejected == {"stranger.jpg": {"different_person"}}


def test_photo_without_a_face():
    from PIL import Image

    analysis = checks.analyze_photo(Image.new("RGB", (1200, 1200), (120, 160, 200)), filename="sky.jpg")
    assert codes(analysis) == {"no_face"}


def test_near_duplicate_is_flagged_once(good_analyses):
    twin = checks.PhotoAnalysis.from_dict(good_analyses[0].to_dict())
    twin.filename = "again.jpg"
    report = checks.check_set(
        [checks.PhotoAnalysis.from_dict(a.to_dict()) for a in good_analyses[:4]] + [twin]
    )
    assert [a.filename for a in report.photos if "near_duplicate" in codes(a)] == ["again.jpg"]


def test_too_few_makes_the_set_unusable(good_analyses):
    report = checks.check_set([checks.PhotoAnalysis.from_dict(a.to_dict()) for a in good_analyses[:5]])
    assert not report.usable
    assert [p.code for p in report.problems if p.severity == "error"] == ["too_few"]
    assert report.summary.startswith("5 usable photos")


def test_summary_sentence_counts_angles_and_asks_for_daylight():
    photos = []
    for pose, n in (("front", 11), ("three-quarter", 4), ("profile", 2)):
        for i in range(n):
            photos.append(
                checks.PhotoAnalysis(
                    filename=f"{pose}{i}",
                    size=(2000, 2000),
                    pose=pose,
                    lighting="warm light" if i else "daylight",
                )
            )
    photos[0].lighting = "warm light"
    photos[11].lighting = "warm light"
    sentence = checks.summary(photos)
    daylight = sum(p.lighting == "daylight" for p in photos)
    assert (
        sentence == f"17 usable photos: 11 front, 4 three-quarter, 2 profile; add {2 - daylight} in daylight"
    )
