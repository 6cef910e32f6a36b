"""Use and evaluate a trained LoRA: generate at a strength, epoch x strength sweeps, scores."""
