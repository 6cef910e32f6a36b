"""What a sweep produces: every cell, each epoch's summary and the recommendation, as one value
that round-trips through sweep.json."""

from dataclasses import asdict, dataclass, field

from app.trainer.metrics import Score
from app.trainer.sweep_recommend import Recommendation
from app.trainer.sweep_scores import SCORE_NAMES, Cell


@dataclass
class SweepResult:
    epochs: list[int]
    strengths: list[float]
    prompts: list[str]
    seed: int
    steps: int
    resolution: int
    base_images: list[str]  # strength 0 (the base model alone), one per prompt
    cells: list[Cell]
    per_epoch: dict[int, dict[str, Score]]
    recommendation: Recommendation
    grid: str = "grid.png"
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def cell(self, epoch: int, strength: float) -> Cell:
        """The cell of that epoch and strength."""
        return next(c for c in self.cells if c.epoch == epoch and abs(c.strength - strength) < 1e-9)

    def recommended_scores(self) -> dict[str, float | None]:
        """The recommended cell's four values (what a model row keeps)."""
        best = self.cell(self.recommendation.epoch, self.recommendation.strength)
        return {name: best.scores[name].value for name in SCORE_NAMES}

    def to_dict(self) -> dict:
        """JSON-ready (epoch keys become strings)."""
        return {
            "epochs": self.epochs,
            "strengths": self.strengths,
            "prompts": self.prompts,
            "seed": self.seed,
            "steps": self.steps,
            "resolution": self.resolution,
            "base_images": self.base_images,
            "cells": [c.to_dict() for c in self.cells],
            "per_epoch": {str(e): {k: v.to_dict() for k, v in s.items()} for e, s in self.per_epoch.items()},
            "recommendation": asdict(self.recommendation),
            "grid": self.grid,
            "seconds": self.seconds,
            "scores": self.recommended_scores(),
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "SweepResult":
        """The inverse of to_dict."""
        return cls(
            epochs=data["epochs"],
            strengths=data["strengths"],
            prompts=data["prompts"],
            seed=data["seed"],
            steps=data["steps"],
            resolution=data["resolution"],
            base_images=data["base_images"],
            cells=[Cell.from_dict(c) for c in data["cells"]],
            per_epoch={
                int(e): {k: Score.from_dict(v) for k, v in s.items()} for e, s in data["per_epoch"].items()
            },
            recommendation=Recommendation(**data["recommendation"]),
            grid=data["grid"],
            seconds=data["seconds"],
        )
