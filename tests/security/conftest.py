"""Fixtures the hardening tests share with the lab's tests: a checked dataset, the lesson gate."""

from tests.integration.lab.conftest import dataset_for, face_photos, may_train

__all__ = ["dataset_for", "face_photos", "may_train"]
