"""The checks on real photos: a good set of one person passes; each flaw is caught by its code."""

import pytest
from PIL import Image

from app.trainer.photos import checks, set_checks
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
    report = set_checks.check_set([checks.PhotoAnalysis.from_dict(a.to_dict()) for a in good_analyses])
    assert [a.filename for a in report.photos if not a.accepted] == []
    assert report.usable
    assert report.summary.startswith(
        "12 usable photos: 12 front, 0 three-quarter, 0 profile; add 3 more photos; "
    )
    assert (
        "2 three-quarter views and 1 profile" in report.summary
        or "2 three-quarter views, 1 profile" in report.summary
    )
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
    report = set_checks.check_set(photos)
    rejected = {a.filename: codes(a) for a in report.photos if not a.accepted}
    assert rejected == {"stranger.jpg": {"different_person"}}


def test_photo_without_a_face():
    from PIL import Image

    analysis = checks.analyze_photo(Image.new("RGB", (1200, 1200), (120, 160, 200)), filename="sky.jpg")
    assert codes(analysis) == {"no_face"}


def test_near_duplicate_is_flagged_once(good_analyses):
    twin = checks.PhotoAnalysis.from_dict(good_analyses[0].to_dict())
    twin.filename = "again.jpg"
    report = set_checks.check_set(
        [checks.PhotoAnalysis.from_dict(a.to_dict()) for a in good_analyses[:4]] + [twin]
    )
    assert [a.filename for a in report.photos if "near_duplicate" in codes(a)] == ["again.jpg"]


def test_near_duplicates_are_judged_among_accepted_photos_and_the_sharper_stays(good_analyses):
    rejected = checks.PhotoAnalysis.from_dict(good_analyses[0].to_dict())
    rejected.filename = "no-face.jpg"
    rejected.problems = [checks.Problem("no_face", "No face was found.", 1)]
    softer = checks.PhotoAnalysis.from_dict(good_analyses[0].to_dict())
    softer.filename, softer.sharpness = "softer.jpg", good_analyses[0].sharpness / 2
    sharper = checks.PhotoAnalysis.from_dict(good_analyses[0].to_dict())
    sharper.filename, sharper.sharpness = "sharper.jpg", good_analyses[0].sharpness * 2
    others = [checks.PhotoAnalysis.from_dict(a.to_dict()) for a in good_analyses[1:4]]

    report = set_checks.check_set([rejected, softer, sharper, *others])

    flagged = {a.filename: a for a in report.photos if "near_duplicate" in codes(a)}
    assert set(flagged) == {"softer.jpg"}  # the rejected photo is nobody's original
    assert "sharper.jpg" in next(
        p.message for p in flagged["softer.jpg"].problems if p.code == "near_duplicate"
    )


def test_a_small_background_face_is_not_a_second_person(good):
    photo = good[1].copy()
    stranger = dp.astronaut().resize((photo.width // 6, photo.width // 6))
    canvas = Image.new("RGB", (photo.width + stranger.width + 10, photo.height), (120, 120, 128))
    canvas.paste(photo, (0, 0))
    canvas.paste(stranger, (photo.width + 5, 5))
    assert "multiple_faces" not in codes(checks.analyze_photo(canvas, filename="crowd.jpg"))


def test_a_wide_photo_is_told_its_shorter_side(good):
    wide = good[1].resize((1400, 800))
    problem = next(
        p for p in checks.analyze_photo(wide, filename="wide.jpg").problems if p.code == "low_resolution"
    )
    assert "shorter side (800 px)" in problem.message and "1024x1024 square crop" in problem.message


def test_too_few_makes_the_set_unusable(good_analyses):
    report = set_checks.check_set([checks.PhotoAnalysis.from_dict(a.to_dict()) for a in good_analyses[:5]])
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
    sentence = set_checks.summary(photos)
    daylight = sum(p.lighting == "daylight" for p in photos)
    assert (
        sentence
        == f"17 usable photos: 11 front, 4 three-quarter, 2 profile; {2 - daylight} in daylight would help"
    )
