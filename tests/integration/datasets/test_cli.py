"""`loraface dataset check DIR [--json]`: verdicts per photo, exit 0 usable, 1 not."""

import json

from click.testing import CliRunner

from app.cli import main
from tests import dataset_photos as dp


def test_check_a_usable_folder_and_an_unusable_one(tmp_path):
    good = dp.good_set(11)
    dp.write(tmp_path / "good", good)
    result = CliRunner().invoke(main, ["dataset", "check", str(tmp_path / "good"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["usable"] and len(report["images"]) == 11
    assert all(i["accepted"] and i["caption"].startswith("sks person") for i in report["images"])

    bad = tmp_path / "bad"
    dp.write(bad, [good[0], dp.with_sunglasses(good[1]), dp.tiny(good[2])])
    (bad / "notes.jpg").write_bytes(b"MZ\x90\x00")
    result = CliRunner().invoke(main, ["dataset", "check", str(bad)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("NO  notes.jpg") and "unreadable" in lines[0]
    assert any(line.startswith("NO  photo_01.jpg") and "eyes_hidden" in line for line in lines)
    assert any(line.startswith("NO  photo_02.jpg") and "low_resolution" in line for line in lines)
    assert lines[-1].startswith("not usable: 1 usable photo")


def test_empty_folder_is_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["dataset", "check", str(tmp_path)])
    assert result.exit_code == 2 and "no photos" in result.output
