"""Inference adapter of task 05: decode text from the project's GPT-2, one token at a time.

Every strategy runs in this module's own loop (beam search excepted: transformers' `generate`),
so tokens can be streamed as they come and each carries the model's probability for it and the
top alternatives. Nothing shared is mutated by a request: the network is only read (no_grad),
the key/value cache is the request's own, and sampling draws from a torch.Generator seeded per
request (never the global RNG), so many users can generate at once with reproducible seeds.
Contrastive search is implemented here (transformers 5 moved it to a Hub download).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from core.errors import InputError
from core.text_input import checked_text

STRATEGIES = ("greedy", "beam search", "sampling", "top-k", "nucleus", "contrastive search")
ALTERNATIVES = 5  # alternatives shown per token


@dataclass(frozen=True)
class Settings:
    """One request's decoding settings (what the API echoes back)."""

    strategy: str = "nucleus"
    max_new_tokens: int = 60
    temperature: float = 0.8
    num_beams: int = 4
    top_k: int = 40
    top_p: float = 0.92
    repetition_penalty: float = 1.2
    no_repeat_ngram_size: int = 3
    num_return_sequences: int = 1
    seed: int = 0
    penalty_alpha: float = 0.6  # contrastive search: weight of the degeneration penalty
    contrastive_k: int = 4      # contrastive search: candidates weighed at each step (the paper's 3-10)

    def checked(self, context: int) -> "Settings":
        """These settings if valid (an InputError that says what to change otherwise)."""
        rules = [(self.strategy in STRATEGIES, f"strategy must be one of {', '.join(STRATEGIES)}"),
                 (1 <= self.max_new_tokens <= context // 2, f"max_new_tokens must be between 1 and {context // 2}"),
                 (0.05 <= self.temperature <= 5, "temperature must be between 0.05 and 5"),
                 (1 <= self.num_beams <= 8, "num_beams must be between 1 and 8"),
                 (1 <= self.top_k <= 200, "top_k must be between 1 and 200"),
                 (0.05 <= self.top_p <= 1, "top_p must be between 0.05 and 1"),
                 (1 <= self.repetition_penalty <= 3, "repetition_penalty must be between 1 and 3"),
                 (0 <= self.no_repeat_ngram_size <= 10, "no_repeat_ngram_size must be between 0 (off) and 10"),
                 (1 <= self.num_return_sequences <= 4, "num_return_sequences must be between 1 and 4"),
                 (0 <= self.seed < 2**32, "seed must be between 0 and 4294967295"),
                 (0 <= self.penalty_alpha <= 1, "penalty_alpha must be between 0 and 1"),
                 (1 <= self.contrastive_k <= 20, "contrastive_k must be between 1 and 20")]
        problems = [message for ok, message in rules if not ok]
        if problems:
            raise InputError("Please change: " + "; ".join(problems) + ".")
        if self.strategy == "beam search" and self.num_return_sequences > self.num_beams:
            raise InputError("Beam search returns at most num_beams sequences: raise num_beams or lower the returns.")
        return self


@dataclass
class Token:
    """One generated token: its text, the model's probability for it and the top alternatives."""

    text: str
    probability: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)


class LanguageModel:
    """The exported GPT-2 and its tokenizer."""

    def __init__(self, model, tokenizer, variant: str = "scratch") -> None:
        from core.tasks.text_generation.train import EOS

        self.model = model.eval()
        self.tokenizer = tokenizer
        self.variant = variant
        self.context = int(model.config.n_positions)
        self.eos = tokenizer.token_to_id(EOS)

    # -- pieces ------------------------------------------------------------------------------
    def encode_prompt(self, prompt: str, settings: Settings) -> list[int]:
        if not isinstance(prompt, str) or not prompt.strip():
            raise InputError("The prompt is empty: type a few words to continue.")
        checked = checked_text(prompt, "prompt")  # binary data refused; no tokenizing of megabytes
        if checked.truncated:
            raise InputError(f"The prompt is {checked.original_chars:,} characters; the model reads {self.context} "
                             "tokens in all (a few hundred words). Shorten it.")
        ids = self.tokenizer.encode(prompt).ids
        room = self.context - settings.max_new_tokens
        if len(ids) > room:
            raise InputError(f"The prompt is {len(ids)} tokens; with {settings.max_new_tokens} new tokens it must be at "
                             f"most {room} (the model reads {self.context} tokens in all). Shorten it or ask for fewer "
                             "new tokens.")
        return ids

    def _token(self, token_id: int, probs: torch.Tensor) -> Token:
        top = torch.topk(probs, ALTERNATIVES)
        return Token(self.tokenizer.decode([token_id]), round(float(probs[token_id]), 4),
                     [(self.tokenizer.decode([int(i)]), round(float(p), 4)) for p, i in zip(top.values, top.indices)])

    def _penalised(self, ids: torch.Tensor, logits: torch.Tensor, settings: Settings) -> torch.Tensor:
        """Repetition penalty and no-repeat n-grams (transformers' processors) on one step's logits."""
        from transformers import NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

        scores = logits.unsqueeze(0)
        if settings.repetition_penalty > 1:
            scores = RepetitionPenaltyLogitsProcessor(settings.repetition_penalty)(ids, scores)
        if settings.no_repeat_ngram_size > 0:
            scores = NoRepeatNGramLogitsProcessor(settings.no_repeat_ngram_size)(ids, scores)
        return scores[0]

    def _warped(self, ids: torch.Tensor, scores: torch.Tensor, settings: Settings) -> torch.Tensor:
        """Temperature, then top-k or nucleus filtering, as the strategy asks."""
        from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

        scores = TemperatureLogitsWarper(settings.temperature)(ids, scores.unsqueeze(0))
        if settings.strategy == "top-k":
            scores = TopKLogitsWarper(settings.top_k)(ids, scores)
        elif settings.strategy == "nucleus":
            scores = TopPLogitsWarper(settings.top_p)(ids, scores)
        return scores[0]

    # -- decoding loops ----------------------------------------------------------------------
    @torch.no_grad()
    def _sample_or_greedy(self, prompt: list[int], settings: Settings, generator: torch.Generator) -> Iterator[Token]:
        ids = torch.tensor([prompt])
        cache = None  # this request's key/value cache
        for _ in range(settings.max_new_tokens):
            out = self.model(input_ids=ids if cache is None else ids[:, -1:], cache=cache, use_cache=True)
            cache = out.cache
            scores = self._penalised(ids, out.logits[0, -1], settings)
            probs = torch.softmax(scores, -1)
            if settings.strategy == "greedy":
                token = int(torch.argmax(scores))
            else:
                token = int(torch.multinomial(torch.softmax(self._warped(ids, scores, settings), -1), 1,
                                              generator=generator))
            if token == self.eos:
                return
            yield self._token(token, probs)
            ids = torch.cat([ids, torch.tensor([[token]])], dim=1)

    @torch.no_grad()
    def _contrastive(self, prompt: list[int], settings: Settings) -> Iterator[Token]:
        """Contrastive search (Su et al., 2022): among the top-k next tokens, the one that best
        trades the model's confidence against similarity to the text so far."""
        ids = torch.tensor([prompt])
        for _ in range(settings.max_new_tokens):
            out = self.model(input_ids=ids, output_hidden_states=True)
            scores = self._penalised(ids, out.logits[0, -1], settings)
            probs = torch.softmax(scores, -1)
            top = torch.topk(probs, settings.contrastive_k)
            candidates = torch.cat([ids.repeat(settings.contrastive_k, 1), top.indices.unsqueeze(1)], dim=1)
            hidden = self.model(input_ids=candidates, output_hidden_states=True).hidden_states[-1]
            previous = torch.nn.functional.normalize(hidden[:, :-1], dim=-1)
            new = torch.nn.functional.normalize(hidden[:, -1:], dim=-1)
            degeneration = (previous @ new.transpose(1, 2)).squeeze(-1).max(dim=1).values
            choice = int(torch.argmax((1 - settings.penalty_alpha) * top.values - settings.penalty_alpha * degeneration))
            token = int(top.indices[choice])
            if token == self.eos:
                return
            yield self._token(token, probs)
            ids = torch.cat([ids, torch.tensor([[token]])], dim=1)

    @torch.no_grad()
    def _beams(self, prompt: list[int], settings: Settings) -> list[list[Token]]:
        """Beam search with transformers' generate; each token's probability is then read from one
        forward pass over the finished text (the model's own distribution at that position)."""
        ids = torch.tensor([prompt])
        out = self.model.generate(ids, attention_mask=torch.ones_like(ids), num_beams=settings.num_beams,
                                  do_sample=False, max_new_tokens=settings.max_new_tokens,
                                  num_return_sequences=settings.num_return_sequences,
                                  repetition_penalty=settings.repetition_penalty,
                                  no_repeat_ngram_size=settings.no_repeat_ngram_size or None,
                                  pad_token_id=self.eos, eos_token_id=self.eos, early_stopping=True)
        texts = []
        for sequence in out:
            sequence = sequence[sequence != self.eos] if self.eos in sequence[len(prompt):] else sequence
            probs = torch.softmax(self.model(input_ids=sequence.unsqueeze(0)).logits[0], -1)
            texts.append([self._token(int(sequence[i]), probs[i - 1]) for i in range(len(prompt), len(sequence))])
        return texts

    # -- what the tab and the API call -----------------------------------------------------------
    def stream(self, prompt: str, settings: Settings) -> Iterator[dict]:
        """Partial results as tokens come: {"sequence": i, "tokens": [Token...], "done": bool}.
        Beam search yields each sequence once it is complete."""
        settings = settings.checked(self.context)
        ids = self.encode_prompt(prompt, settings)
        if settings.strategy == "beam search":
            for i, tokens in enumerate(self._beams(ids, settings)):
                yield {"sequence": i, "tokens": tokens, "done": True}
            return
        for i in range(settings.num_return_sequences):
            generator = torch.Generator().manual_seed(settings.seed + i)
            steps = (self._contrastive(ids, settings) if settings.strategy == "contrastive search"
                     else self._sample_or_greedy(ids, settings, generator))
            tokens: list[Token] = []
            for token in steps:
                tokens.append(token)
                yield {"sequence": i, "tokens": tokens, "done": False}
            yield {"sequence": i, "tokens": tokens, "done": True}

    def result(self, prompt: str, settings: Settings, sequences: dict[int, list[Token]], seconds: float) -> dict:
        """The JSON of a finished request (what /generate_text returns)."""
        count = sum(len(tokens) for tokens in sequences.values())
        return {"prompt": prompt,
                "texts": [prompt + "".join(t.text for t in sequences[i]) for i in sorted(sequences)],
                "tokens": [[asdict(t) for t in sequences[i]] for i in sorted(sequences)],
                "token_count": count, "tokens_per_s": round(count / seconds, 1) if seconds > 0 else None,
                "latency_ms": round(seconds * 1000, 1), "settings": asdict(settings),
                "model": f"text_generation/{self.variant}", "variant": self.variant}

    def generate(self, prompt: str, settings: Settings | None = None) -> dict:
        """The final result of `prompt` with `settings` (no streaming)."""
        settings = settings or Settings()
        started = time.perf_counter()
        sequences = {part["sequence"]: part["tokens"] for part in self.stream(prompt, settings) if part["done"]}
        return self.result(prompt, settings, sequences, time.perf_counter() - started)


def load(variant: str, model_dir: Path) -> LanguageModel:
    """"scratch": the shipped model trained by this project; "hub": the opt-in pretrained model, once
    installed (an InputError with the install command otherwise)."""
    from core.tasks.text_generation import hub
    from core.tasks.text_generation.evaluate import load_model

    if variant == "hub":
        if not hub.available():
            raise InputError(hub.unavailable_reason())
        model, tokenizer = hub.load_model()
    elif variant == "scratch":
        model, tokenizer = load_model(model_dir)
    else:
        raise KeyError(f"Unknown variant {variant!r}")
    return LanguageModel(model, tokenizer, variant)


def settings_from(values: dict) -> Settings:
    """Settings from an API call's keyword values (unknown names are an InputError)."""
    unknown = sorted(set(values) - set(Settings.__dataclass_fields__))
    if unknown:
        raise InputError(f"Unknown setting(s): {', '.join(unknown)}.")
    try:
        return replace(Settings(), **values)
    except (TypeError, ValueError) as exc:
        raise InputError(f"Invalid settings: {exc}") from exc

