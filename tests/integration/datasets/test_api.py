"""POST /api/datasets and friends through the real app: real photos, hostile inputs, files on disk."""

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.datasets.models import Dataset, DatasetImage
from tests import dataset_photos as dp


@pytest.fixture(scope="module")
def good_jpegs() -> list[bytes]:
    return [dp.jpeg_bytes(im) for im in dp.good_set(11)]


def upload(client, files, **fields):
    return client.post("/api/datasets", files=[("files", f) for f in files], data=fields)


def user_files(settings, user) -> list:
    folder = settings.data_dir / "users" / str(user.id)
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def counts(db) -> tuple[int, int]:
    db.expire_all()
    return db.scalar(select(func.count(Dataset.id))), db.scalar(select(func.count(DatasetImage.id)))


def test_good_set_with_a_stranger_and_a_blurred_photo(api_as, settings, good_jpegs):
    api = api_as("learner")
    stranger = dp.jpeg_bytes(dp.other_person())
    blurry = dp.jpeg_bytes(dp.blurred(dp.good_set(12)[11]))
    files = [(f"me_{i}.jpg", data, "image/jpeg") for i, data in enumerate(good_jpegs)]
    files += [("stranger.jpg", stranger, "image/jpeg"), ("blurry.jpg", blurry, "image/jpeg")]
    response = upload(api, files, trigger="ohwx", class_word="woman", name="Grace")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["usable"] is True and body["name"] == "Grace"
    verdicts = {
        i["filename"]: (i["accepted"], {p["code"] for p in i["problems"] if p["severity"] == "error"})
        for i in body["images"]
    }
    assert verdicts["stranger.jpg"] == (False, {"different_person"})
    assert verdicts["blurry.jpg"] == (False, {"blurry"})
    assert all(verdicts[f"me_{i}.jpg"] == (True, set()) for i in range(11))
    assert body["summary"].startswith("11 usable photos: 11 front")
    first = body["images"][0]
    assert first["caption"].startswith("ohwx woman") and first["caption_problems"] == []
    # Files: one stored photo, crop and thumbnail each, all under the user's folder.
    names = {p.parent.name for p in user_files(settings, api.user)}
    assert names == {"photos", "crops", "thumbs"}
    crop = api.get(first["crop"]["url"])
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(crop.content)).size == (1024, 1024)

    again = api.get(f"/api/datasets/{body['id']}")
    assert again.status_code == 200 and again.json()["images"] == body["images"]


def test_stored_photo_has_no_exif_or_gps(api_as, settings, good_jpegs):
    api = api_as("learner")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 30.0), "E", (2.0, 17.0, 40.0)
    with_gps = dp.jpeg_bytes(dp.good_set(1)[0], exif=exif.tobytes())
    assert Image.open(io.BytesIO(with_gps)).getexif().get_ifd(0x8825)
    response = upload(api, [("gps.jpg", with_gps, "image/jpeg")])
    assert response.status_code == 201, response.text
    image = response.json()["images"][0]
    stored = api.get(f"/api/datasets/{response.json()['id']}/images/{image['id']}/photo")
    assert stored.status_code == 200
    read_back = Image.open(io.BytesIO(stored.content))
    assert not read_back.getexif() and not read_back.getexif().get_ifd(0x8825)
    assert b"PhoneMaker" not in stored.content and b"Exif" not in stored.content
    on_disk = [p for p in user_files(settings, api.user) if p.parent.name == "photos"]
    assert len(on_disk) == 1 and on_disk[0].read_bytes() == stored.content


def _png_header(width, height) -> bytes:
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _zip(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buffer.getvalue()


def _hostile_cases(good: bytes) -> dict:
    return {
        "truncated jpeg": ([("cut.jpg", good[: len(good) // 3])], 400, "truncated"),
        "png 20000x20000": ([("huge.png", _png_header(20000, 20000))], 413, "pixels"),
        "zip with ../": (
            [("set.zip", _zip({"ok.jpg": good, "../../../etc/cron.d/x.jpg": good}))],
            400,
            "leaves the folder",
        ),
        "zip bomb": ([("bomb.zip", _zip({"a.jpg": b"\x00" * (40 * 1024 * 1024 - 1)}))], 413, "zip bomb"),
        "jpeg/html polyglot": (
            [("poly.jpg", good + b"<html><script>alert(document.cookie)</script></html>")],
            400,
            "web page code",
        ),
        "exe named jpg": (
            [("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 4096)],
            400,
            "not a photo",
        ),
        "empty file": ([("empty.jpg", b"")], 400, "empty"),
        "0-byte zip": ([("photos.zip", b"")], 400, "empty"),
        "good photo plus a hostile one": (
            [("ok.jpg", good), ("evil.jpg", b"MZ" + b"\x00" * 100)],
            400,
            "evil.jpg",
        ),
    }


@pytest.mark.parametrize("case", list(_hostile_cases(b"").keys()))
def test_hostile_upload_is_refused_and_leaves_nothing(api_as, settings, db, good_jpegs, case):
    api = api_as("learner")
    files, status, words = _hostile_cases(good_jpegs[0])[case]
    response = upload(api, [(name, data, "application/octet-stream") for name, data in files])
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert user_files(settings, api.user) == []
    assert counts(db) == (0, 0)


def test_a_200_mb_upload_gets_413_and_leaves_nothing(api_as, settings, db):
    api = api_as("learner")
    response = upload(api, [("big.jpg", b"\xff\xd8\xff" + b"\x00" * (200 * 1024 * 1024), "image/jpeg")])
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert user_files(settings, api.user) == [] and counts(db) == (0, 0)


def test_bad_fields_are_refused(api_as, good_jpegs, db):
    api = api_as("learner")
    response = upload(api, [("a.jpg", good_jpegs[0], "image/jpeg")], trigger="two words")
    assert response.status_code == 400 and "trigger" in response.json()["detail"]
    assert upload(api, [("a.jpg", good_jpegs[0], "image/jpeg")], base="sd3").status_code == 422
    assert counts(db) == (0, 0)


def test_another_users_dataset_is_404_and_wrong_role_is_403(api_as, good_jpegs):
    owner, other = api_as("learner"), api_as("learner")
    created = upload(owner, [("a.jpg", good_jpegs[0], "image/jpeg")]).json()
    assert other.get(f"/api/datasets/{created['id']}").status_code == 404
    image_id = created["images"][0]["id"]
    assert other.get(f"/api/datasets/{created['id']}/images/{image_id}/photo").status_code == 404
    assert (
        other.patch(f"/api/datasets/{created['id']}/images/{image_id}", json={"caption": "x"}).status_code
        == 404
    )
    assert other.delete(f"/api/datasets/{created['id']}").status_code == 404
    reviewer = api_as("reviewer")
    assert upload(reviewer, [("a.jpg", good_jpegs[0], "image/jpeg")]).status_code == 403


def test_duplicates_are_kept_once_and_zip_uploads_work(api_as, good_jpegs):
    api = api_as("learner")
    archive = _zip(
        {
            "set/a.jpg": good_jpegs[0],
            "set/b.jpg": good_jpegs[1],
            "set/copy.jpg": good_jpegs[0],
            "__MACOSX/._a.jpg": b"x",
        }
    )
    response = upload(api, [("set.zip", archive, "application/zip")], base="sd15")
    assert response.status_code == 201, response.text
    body = response.json()
    assert [i["filename"] for i in body["images"]] == ["a.jpg", "b.jpg"]
    assert body["skipped"] == [
        {"filename": "copy.jpg", "code": "duplicate", "message": "The same photo as a.jpg; kept once."}
    ]
    assert body["resolution"] == 512 and body["usable"] is False
    assert [p["code"] for p in body["problems"] if p["severity"] == "error"] == ["too_few"]


def test_caption_edit_lint_and_crop_nudge(api_as, good_jpegs, settings):
    api = api_as("learner")
    created = upload(api, [("a.jpg", good_jpegs[0], "image/jpeg")], trigger="sks", class_word="woman").json()
    image = created["images"][0]
    url = f"/api/datasets/{created['id']}/images/{image['id']}"
    edited = api.patch(url, json={"caption": "a woman with blue eyes"}).json()["images"][0]
    assert edited["caption"] == "a woman with blue eyes"
    assert [p["code"] for p in edited["caption_problems"]] == [
        "caption_missing_trigger",
        "caption_class_without_trigger",
        "caption_describes_face",
    ]
    before = edited["crop"]
    moved = api.patch(url, json={"nudge": {"dx": 0.1, "zoom": 1.2}}).json()["images"][0]["crop"]
    assert moved["size"] < before["size"] and moved["left"] != before["left"]
    assert api.get(moved["url"]).status_code == 200
    assert api.patch(url, json={"caption": "   "}).status_code == 400
    assert api.patch(url, json={"nudge": {"dx": 3}}).status_code == 422


def test_training_images_and_choices_for_the_lab(api_as, db, settings, good_jpegs):
    from app.datasets import service

    api = api_as("learner")
    created = upload(api, [(f"{i}.jpg", d, "image/jpeg") for i, d in enumerate(good_jpegs[:3])]).json()
    items = service.training_images(db=db, user_id=api.user.id, dataset_id=created["id"])
    assert len(items) == 3
    for item in items:
        assert (settings.data_dir / item["path"]).is_file()
        assert item["caption"].startswith("sks person")
    assert service.training_choices(db=db, user_id=api.user.id) == [
        {"id": created["id"], "name": created["name"], "images": 3}
    ]
    assert service.training_images(db=db, user_id=api.user.id + 999, dataset_id=created["id"]) is None


def test_delete_removes_rows_and_files(api_as, db, settings, good_jpegs):
    api = api_as("learner")
    created = upload(api, [("a.jpg", good_jpegs[0], "image/jpeg")]).json()
    assert user_files(settings, api.user)
    assert api.delete(f"/api/datasets/{created['id']}").status_code == 204
    assert user_files(settings, api.user) == [] and counts(db) == (0, 0)
