"""The training lab: start a job, watch it learn, cancel it, download the LoRA."""
