"""My work: one page listing the learner's datasets, jobs, models and submissions."""
