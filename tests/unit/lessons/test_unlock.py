"""The track's unlock rules and progress arithmetic."""

from app.lessons import service


def test_only_lesson_one_is_open_at_first():
    assert [service.state_of(n, set()) for n in range(1, 4)] == ["current", "locked", "locked"]


def test_passing_a_lesson_opens_the_next():
    passed = {1, 2}
    assert [service.state_of(n, passed) for n in range(1, 5)] == ["passed", "passed", "current", "locked"]
    assert service.is_unlocked(3, passed) and not service.is_unlocked(4, passed)


def test_progress_step_and_completion():
    assert service.progress_of(set()) == service.Progress(passed=0, total=8, step=1, current=1)
    assert service.progress_of({1}).step == 2
    done = service.progress_of(set(range(1, 9)))
    assert done.complete and done.step == 8 and done.current is None
