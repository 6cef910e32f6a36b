"""An exponential moving average of the adapter weights: the average of the last ~1/(1-decay)
steps is smoother than any single step, and is what gets exported when EMA is on."""

from contextlib import contextmanager


class AdapterEMA:
    """shadow <- decay * shadow + (1 - decay) * weight after every optimizer step, in float32."""

    def __init__(self, params: list, decay: float):
        self.params = params
        self.decay = decay
        self.shadow = [p.detach().clone().float() for p in params]

    def update(self) -> None:
        """Fold the weights after this step into the average."""
        import torch

        with torch.no_grad():
            for shadow, p in zip(self.shadow, self.params, strict=True):
                shadow.lerp_(p.detach().float(), 1.0 - self.decay)

    @contextmanager
    def applied(self):
        """The averaged weights in the model for the duration (export, samples), the raw ones after."""
        import torch

        raw = [p.detach().clone() for p in self.params]
        with torch.no_grad():
            for p, shadow in zip(self.params, self.shadow, strict=True):
                p.copy_(shadow)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, saved in zip(self.params, raw, strict=True):
                    p.copy_(saved)

    def copy_to_model(self) -> None:
        """Leave the averaged weights in the model for good (the end of training)."""
        import torch

        with torch.no_grad():
            for p, shadow in zip(self.params, self.shadow, strict=True):
                p.copy_(shadow)

    def state_dict(self) -> dict:
        """What a checkpoint keeps so a resumed run averages on exactly as before."""
        return {"decay": self.decay, "shadow": [s.cpu() for s in self.shadow]}

    def load_state_dict(self, state: dict) -> None:
        """The inverse of state_dict."""
        self.shadow = [
            s.to(p.device, dtype=s.dtype) for s, p in zip(state["shadow"], self.params, strict=True)
        ]
