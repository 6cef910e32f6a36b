"""FLUX.1 (dev and schnell) beside SDXL and SD 1.5: base loading, the tiny demo, flow-matching
training, export and the key check, sharing config, checkpoints and errors with the UNet trainer."""
