"""The trainer library: datasets, base models, the LoRA loop, export, sampling, metrics.

Nothing here imports the web app; `loraface train` and the worker call the same functions."""
