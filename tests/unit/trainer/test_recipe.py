"""The face recipe's pieces on their own: aspect buckets, the masked loss, the EMA arithmetic."""

import pytest

from app.trainer import buckets, masks
from app.trainer.config import TrainConfig, plan
from app.trainer.encoding import sdxl_time_ids
from app.trainer.pipeline import TrainImage


def test_sdxl_buckets_step_by_64_around_a_megapixel():
    sizes = buckets.bucket_sizes(1024)
    assert (1024, 1024) in sizes and (896, 1152) in sizes and (1152, 896) in sizes
    assert all(w % 64 == 0 and h % 64 == 0 and w * h <= 1024 * 1024 for w, h in sizes)
    assert all(w * h > 0.85 * 1024 * 1024 for w, h in sizes)
    assert buckets.nearest_bucket(3 / 4, 1024) == (896, 1152)
    assert buckets.nearest_bucket(1.0, 512) == (512, 512)


def test_batches_hold_one_shape_and_plan_counts_them():
    shapes = [(16, 16), (14, 18), (16, 16), (14, 18), (16, 16)]
    order = [4, 1, 0, 3, 2]
    batches = buckets.batches(order, shapes, 2)
    assert batches == [[4, 0], [1, 3], [2]]
    assert all(len({shapes[i] for i in b}) == 1 for b in batches)
    cfg = TrainConfig(trigger="sks", class_word="woman", batch_size=2, epochs=1)
    assert plan(cfg, 5, buckets.bucket_counts(shapes))[0] == 3  # 3 squares -> 2 batches, 2 portraits -> 1
    assert buckets.batches(order, [(16, 16)] * 5, 2) == [[4, 1], [0, 3], [2]]  # one shape: plain chunks


def test_a_bucketed_crop_gives_sdxl_its_real_size_and_corner():
    # a 600x800 (h x w) photo, 450 x 350 px crop at (top 100, left 200), trained at 1152 x 896
    item = TrainImage(
        path="x.png", caption="c", original_size=(600, 800), crop_top_left=(100, 200), crop_hw=(450, 350)
    )
    assert sdxl_time_ids(item, 896, (1152, 896)) == [600, 800, 256, 512, 1152, 896]


def test_bucket_box_keeps_the_bucket_aspect_inside_the_photo():
    left, top, w, h = buckets.bucket_box((800, 600), (300, 100, 400), (896, 1152))
    assert abs(w / h - 896 / 1152) < 0.01 and left >= 0 and top >= 0 and left + w <= 800 and top + h <= 600


def test_zero_background_weight_gives_background_pixels_no_gradient():
    import torch

    pred = torch.randn(2, 4, 8, 8, requires_grad=True)
    target = torch.randn(2, 4, 8, 8)
    inside = torch.zeros(2, 1, 8, 8)
    inside[:, :, 2:6, 2:6] = 1.0
    masks.masked_mse(pred, target, inside).sum().backward()
    assert pred.grad[:, :, inside[0, 0] == 0].abs().max() == 0
    assert pred.grad[:, :, inside[0, 0] == 1].abs().min() > 0
    unweighted = masks.masked_mse(pred, target, None)
    assert torch.allclose(unweighted, ((pred - target) ** 2).mean(dim=(1, 2, 3)))


def test_face_mask_covers_the_face_and_not_the_corners():
    from app.trainer import faces
    from tests.photos import astronaut

    photo = astronaut()
    face = faces.detect_faces(photo)[0]
    cx, cy = (int(v) for v in face.center)
    for mode in ("face", "head"):
        mask = masks.region_mask(photo.size, face.landmarks, mode)
        assert mask.getpixel((cx, cy)) == 255 and mask.getpixel((0, 0)) == 0
        assert mask.getpixel((photo.size[0] - 1, photo.size[1] - 1)) == 0
    head = masks.region_mask(photo.size, face.landmarks, "head")
    face_only = masks.region_mask(photo.size, face.landmarks, "face")
    assert sum(head.point(lambda v: v > 127).getdata()) > sum(face_only.point(lambda v: v > 127).getdata())
    weight = masks.latent_weight(face_only, (64, 64), 0.0)
    assert weight.shape == (1, 1, 64, 64) and weight.min() == 0 and weight.max() > 0.99


def test_ema_follows_the_decay_arithmetic():
    import torch

    from app.trainer.ema import AdapterEMA

    p = torch.nn.Parameter(torch.zeros(3))
    ema = AdapterEMA([p], 0.9)
    expected = torch.zeros(3)
    for value in (1.0, 2.0, 4.0):
        with torch.no_grad():
            p.fill_(value)
        ema.update()
        expected = 0.9 * expected + 0.1 * value
    assert torch.allclose(ema.shadow[0], expected)
    with ema.applied():
        assert torch.allclose(p.detach(), expected)
    assert torch.equal(p.detach(), torch.full((3,), 4.0))  # raw weights back after export


@pytest.mark.parametrize(
    "bad", [{"mask": "body"}, {"optimizer": "sgd"}, {"network": "lokr"}, {"ema_decay": 1.0}]
)
def test_unknown_recipe_settings_are_refused(bad):
    from app.trainer.config import validate
    from app.trainer.errors import TrainingError

    with pytest.raises(TrainingError):
        validate(TrainConfig(trigger="sks", class_word="woman", **bad))
