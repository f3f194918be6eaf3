"""The fusion model: three encoders' vectors, a learned gate over the modalities present, one head.

    picture -> small CNN ------------------------> h_image (D) --\
    text    -> MiniLM (frozen, 384) -> MLP ------> h_text  (D) ---+-> gate: softmax over the present
    speech  -> Whisper encoder (frozen, 768) -> MLP -> h_audio (D) -/   modalities of w . tanh(W h_m)
                                                                      -> sum_m gate_m h_m -> head -> 9 categories

The gate is the modality weight the app shows. Missing modalities are masked out of the softmax,
so any non-empty subset of inputs works; training drops modalities at random (modality dropout)
and adds each modality's own classifier loss, so that every encoder is useful alone. Only the CNN,
the MLPs, the gate and the heads are trained (about 0.5 M parameters, safetensors).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from core.tasks.multimodal_fusion.encoders import AUDIO_DIM, TEXT_DIM

MODALITIES = ("image", "text", "audio")
WEIGHTS, CONFIG = "fusion.safetensors", "fusion_config.json"


def subset_name(present) -> str:
    """"image+text" for a mask (image, text, audio) = (True, True, False)."""
    return "+".join(m for m, p in zip(MODALITIES, present) if p)


@dataclass(frozen=True)
class FusionConfig:
    classes: int = 9
    dim: int = 128
    hidden: int = 256
    dropout: float = 0.3
    channels: tuple[int, int, int] = (32, 64, 128)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ImageEncoder(nn.Module):
    """64 px RGB -> (stride-2 stem) -> three conv blocks -> an 8x8 feature map -> D."""

    def __init__(self, config: FusionConfig) -> None:
        super().__init__()
        c1, c2, c3 = config.channels
        self.features = nn.Sequential(
            nn.Conv2d(3, c1, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(inplace=True),  # 32x32
            _block(c1, c1), nn.MaxPool2d(2),   # 16x16
            _block(c1, c2), nn.MaxPool2d(2),   # 8x8
            _block(c2, c3))                    # the map Grad-CAM reads
        self.project = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(c3, config.dim))

    def pool(self, feature_map: torch.Tensor) -> torch.Tensor:
        return self.project(feature_map.mean(dim=(2, 3)))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.pool(self.features(image))


def _mlp(inputs: int, config: FusionConfig) -> nn.Sequential:
    return nn.Sequential(nn.Dropout(config.dropout / 2), nn.Linear(inputs, config.hidden), nn.GELU(),
                         nn.Dropout(config.dropout), nn.Linear(config.hidden, config.dim))


class FusionModel(nn.Module):
    def __init__(self, config: FusionConfig = FusionConfig()) -> None:
        super().__init__()
        self.config = config
        self.image = ImageEncoder(config)
        self.text = _mlp(TEXT_DIM, config)
        self.audio = _mlp(AUDIO_DIM, config)
        self.gate = nn.Sequential(nn.Linear(config.dim, config.dim // 2), nn.Tanh(), nn.Linear(config.dim // 2, 1))
        self.head = nn.Sequential(nn.LayerNorm(config.dim), nn.Dropout(config.dropout), nn.Linear(config.dim, config.classes))
        self.own_heads = nn.ModuleList(nn.Linear(config.dim, config.classes) for _ in MODALITIES)

    def embed(self, image: torch.Tensor | None, text: torch.Tensor | None, audio: torch.Tensor | None,
              present: torch.Tensor) -> torch.Tensor:
        """(B, 3, D) modality vectors (zeros where absent). Each encoder runs only on the rows that
        have its modality; `image` may already be a pooled (B, D) vector (Grad-CAM passes one)."""
        batch = present.shape[0]
        out = torch.zeros(batch, len(MODALITIES), self.config.dim)
        for m, (inputs, encoder) in enumerate(((image, self.image), (text, self.text), (audio, self.audio))):
            rows = present[:, m]
            if inputs is None or not rows.any():
                continue
            if m == 0 and inputs.dim() == 2:
                out[rows, m] = inputs[rows]
            else:
                out[rows, m] = encoder(inputs[rows])
        return out

    def fuse(self, vectors: torch.Tensor, present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fused logits and gate weights (B, 3; zero for absent modalities, summing to 1)."""
        scores = self.gate(vectors).squeeze(-1).masked_fill(~present, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        fused = (weights.unsqueeze(-1) * vectors).sum(1)
        return self.head(fused), weights

    def forward(self, image: torch.Tensor | None, text: torch.Tensor | None, audio: torch.Tensor | None,
                present: torch.Tensor) -> dict[str, torch.Tensor]:
        vectors = self.embed(image, text, audio, present)
        logits, weights = self.fuse(vectors, present)
        own = torch.stack([head(vectors[:, m]) for m, head in enumerate(self.own_heads)], 1)
        return {"logits": logits, "weights": weights, "own_logits": own}


def save(model: FusionModel, folder: Path, extra: dict | None = None) -> list[Path]:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / WEIGHTS))
    (folder / CONFIG).write_text(json.dumps({**asdict(model.config), **(extra or {})}, indent=1))
    return [folder / WEIGHTS, folder / CONFIG]


def load(folder: Path) -> tuple[FusionModel, dict]:
    """The shipped model in eval mode (no pickle is read) and its config (with the temperature of each input subset)."""
    from safetensors.torch import load_file

    config = json.loads((folder / CONFIG).read_text())
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items() if k in FusionConfig.__dataclass_fields__}
    model = FusionModel(FusionConfig(**fields))
    model.load_state_dict(load_file(str(folder / WEIGHTS)))
    return model.eval(), config
