"""Art-director review: submissions of a learner's LoRA, the reviewer queue, rubric reviews and verdicts."""
