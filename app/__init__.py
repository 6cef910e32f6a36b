"""LoRAFace: a face LoRA course and trainer in one FastAPI app."""
