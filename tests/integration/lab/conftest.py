"""Learners who may train and datasets to train on, made through the real services."""

import pytest

from tests.photos import write_face_set


def pass_lessons(db, user, upto: int = 6) -> None:
    """Answer every check from lesson 1 to `upto` correctly, in order, as a learner would."""
    from app.quiz import service as quiz_service

    for number in range(1, upto + 1):
        questions = quiz_service.list_questions(db=db, lesson_number=number)
        answers = {q.id: quiz_service.right_answers(q) for q in questions}
        attempt = quiz_service.grade(db=db, user_id=user.id, lesson_number=number, answers=answers)
        assert attempt.passed
    db.commit()


@pytest.fixture
def may_train():
    """may_train(db, user): the learner has passed lessons 1-6."""
    return pass_lessons


@pytest.fixture(scope="session")
def face_photos(tmp_path_factory) -> list[tuple[str, bytes]]:
    """Four real face photos as an upload (name, bytes)."""
    paths = write_face_set(tmp_path_factory.mktemp("lab-photos"), size=512)
    return [(p.name, p.read_bytes()) for p in paths]


@pytest.fixture
def dataset_for(settings, face_photos):
    """dataset_for(db, user) -> id of a dataset of real face photos, checked and cropped."""
    from app.datasets import service as datasets_service

    def make(db, user) -> int:
        dataset, _ = datasets_service.create_dataset(
            db=db, settings=settings, user_id=user.id, files=face_photos, name="test faces", base="sd15"
        )
        db.commit()
        accepted = [i for i in dataset.images if i.accepted]
        assert len(accepted) == len(face_photos), [i.problems for i in dataset.images]
        return dataset.id

    return make
