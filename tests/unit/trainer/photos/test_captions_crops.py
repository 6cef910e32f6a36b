"""Caption lint and face-centred square crops."""

from app.trainer.photos import captions, crops


def codes(caption, trigger="sks", class_word="woman"):
    return [p.code for p in captions.lint(caption, trigger=trigger, class_word=class_word)]


def test_default_caption_joins_trigger_class_and_variable_parts():
    parts = captions.variable_parts(lighting="daylight", pose="profile")
    assert captions.default_caption("sks", "woman", parts) == "sks woman, in daylight, profile view"
    assert codes(captions.default_caption("sks", "woman", parts)) == []


def test_lint_flags_missing_trigger_bare_class_and_face_traits():
    assert codes("a woman in daylight") == ["caption_missing_trigger", "caption_class_without_trigger"]
    assert codes("sks woman, a woman behind her") == ["caption_class_without_trigger"]
    assert codes("sks woman with blue eyes and freckles") == ["caption_describes_face"]
    assert codes("sksy woman") == ["caption_missing_trigger", "caption_class_without_trigger"]
    assert codes("SKS Woman, studio light") == []


def test_crop_is_square_centred_on_the_face_with_shoulders_and_inside_the_photo():
    box = crops.crop_box((4000, 3000), resolution=1024, face_box=(1800, 1000, 2200, 1400))
    assert box.side == 1280  # 3.2 face widths
    assert box.left == 2000 - 640
    assert box.top < 1000 and box.top + box.side > 1400 + 0.3 * 400  # head to shoulders
    assert not box.upscaled_too_much


def test_crop_prefers_full_resolution_over_upscaling():
    box = crops.crop_box((3000, 3000), resolution=1024, face_box=(1400, 1400, 1600, 1600))
    assert box.side == 1000  # 5 face widths, the most context allowed
    small = crops.crop_box((600, 600), resolution=1024, face_box=(250, 250, 350, 350))
    assert small.side == 500 and small.upscaled_too_much


def test_crop_stays_inside_at_the_edges_and_nudges_move_it():
    edge = crops.crop_box((1000, 1000), resolution=512, face_box=(0, 0, 200, 200))
    assert (edge.left, edge.top) == (0, 0)
    centre = crops.crop_box((3000, 3000), resolution=512, face_box=(1400, 1400, 1600, 1600))
    moved = crops.crop_box(
        (3000, 3000),
        resolution=512,
        face_box=(1400, 1400, 1600, 1600),
        nudge=crops.Nudge().moved(dx=0.1, zoom=1.25),
    )
    assert moved.side < centre.side and moved.left + moved.side / 2 > centre.left + centre.side / 2
