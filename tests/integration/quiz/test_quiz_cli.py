"""`loraface quiz export` and `loraface quiz import` against the test database."""

import pytest
from click.testing import CliRunner

from app.cli import main
from app.config import get_settings
from app.quiz import service as quiz_service


@pytest.fixture
def cli(settings, monkeypatch, app):
    monkeypatch.setenv("LORAFACE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LORAFACE_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args, **kw: runner.invoke(main, list(args), catch_exceptions=False, **kw)
    get_settings.cache_clear()


def test_export_then_import_replaces_a_lesson(cli, db, tmp_path):
    exported = cli("quiz", "export", "--lesson", "3")
    assert exported.exit_code == 0
    assert exported.stdout.startswith("// LoRAFace lesson 3")
    seeded = quiz_service.list_questions(db=db, lesson_number=3)
    path = tmp_path / "three.gift"
    path.write_text(exported.stdout)

    imported = cli("quiz", "import", str(path), "--lesson", "3", "--replace")
    assert imported.exit_code == 0, imported.output
    assert f"imported {len(seeded)} questions into lesson 3" in imported.stdout
    db.expire_all()
    fresh = quiz_service.list_questions(db=db, lesson_number=3)
    assert [q.prompt for q in fresh] == [q.prompt for q in seeded]
    assert not {q.id for q in fresh} & {q.id for q in seeded}


def test_broken_file_lists_errors_and_changes_nothing(cli, db, tmp_path):
    before = [q.id for q in quiz_service.list_questions(db=db, lesson_number=2)]
    path = tmp_path / "broken.gift"
    path.write_text("Fine {=a ~b}\n\nWeights {\n  ~%abc%x\n  ~%100%y\n}\n\nNumbers {#42}\n")
    result = cli("quiz", "import", str(path), "--lesson", "2")
    assert result.exit_code == 2
    assert f"{path}:4: bad weight" in result.stderr
    assert f"{path}:8: numeric questions" in result.stderr
    assert "2 error(s); nothing was imported" in result.stderr
    db.expire_all()
    assert [q.id for q in quiz_service.list_questions(db=db, lesson_number=2)] == before


def test_unknown_lesson(cli):
    result = cli("quiz", "export", "--lesson", "12")
    assert result.exit_code == 2 and "There is no lesson 12" in result.stderr
