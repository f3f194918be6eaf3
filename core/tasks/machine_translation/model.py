"""Task 06's neural translator: a small Marian transformer (transformers' MarianMTModel) for
English <-> Spanish in both directions, with one shared SentencePiece-style BPE vocabulary.

The target language is a tag token first in the source, as in Marian's multilingual models:
">>es<< The whale." -> "La ballena." and ">>en<< La ballena." -> "The whale.". These are the
pieces training, evaluation and the adapter share: special tokens, the network, the tokenizer,
encoding a sentence and translating a batch of sentences.
"""
from __future__ import annotations

from pathlib import Path

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
TAGS = {"es": ">>es<<", "en": ">>en<<"}  # target-language tags (the model's two directions)
SPECIAL_TOKENS = [PAD, EOS, UNK, *TAGS.values()]  # ids 0..4, in this order


def train_tokenizer(texts: list[str], vocab_size: int, path: Path):
    """A SentencePiece-style BPE tokenizer (NFKC, "▁" marks a word start) learned from `texts` of
    both languages, with the special tokens first; saved as tokenizer.json."""
    from tokenizers import SentencePieceBPETokenizer

    tokenizer = SentencePieceBPETokenizer(unk_token=UNK)
    tokenizer.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
                                  limit_alphabet=160, show_progress=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return tokenizer


def build_model(vocab_size: int, d_model: int, layers: tuple[int, int], heads: int, ffn: int, max_len: int):
    """A MarianMTModel with tied input/output embeddings shared by encoder and decoder."""
    from transformers import MarianConfig, MarianMTModel

    config = MarianConfig(vocab_size=vocab_size, d_model=d_model, encoder_layers=layers[0], decoder_layers=layers[1],
                          encoder_attention_heads=heads, decoder_attention_heads=heads, encoder_ffn_dim=ffn,
                          decoder_ffn_dim=ffn, max_position_embeddings=max_len, activation_function="gelu",
                          dropout=0.1, attention_dropout=0.0, scale_embedding=True, pad_token_id=0, eos_token_id=1,
                          forced_eos_token_id=1, decoder_start_token_id=0, share_encoder_decoder_embeddings=True,
                          tie_word_embeddings=True)
    return MarianMTModel(config)


def source_ids(tokenizer, text: str, target: str, max_len: int) -> list[int]:
    """[target tag] + the sentence's tokens + [</s>], cut to `max_len` tokens."""
    ids = tokenizer.encode(text, add_special_tokens=False).ids[:max_len - 2]
    return [tokenizer.token_to_id(TAGS[target]), *ids, tokenizer.token_to_id(EOS)]


def target_ids(tokenizer, text: str, max_len: int) -> list[int]:
    """The sentence's tokens + [</s>], cut to `max_len` tokens (labels of training)."""
    return tokenizer.encode(text, add_special_tokens=False).ids[:max_len - 1] + [tokenizer.token_to_id(EOS)]


def translate_batch(model, tokenizer, texts: list[str], target: str, num_beams: int = 1, batch: int = 32,
                    no_repeat_ngram_size: int = 3) -> list[str]:
    """Translate sentences into `target` ("es" or "en"), `batch` at a time, shortest first (less
    padding). A sentence in capitals (a heading) is translated in sentence case and given back in
    capitals: the training text has few of them, and the model loops on capital letters. No
    trigram is generated twice in a sentence (no_repeat_ngram_size), which stops the rare loops.
    Reads the model only (no_grad, tensors of this call), so threads may share it."""
    import torch

    max_len = int(model.config.max_position_embeddings)
    shouted = [text.isupper() for text in texts]
    texts = [text.capitalize() if loud else text for text, loud in zip(texts, shouted)]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[str] = [""] * len(texts)
    with torch.no_grad():
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            rows = [source_ids(tokenizer, texts[i], target, max_len) for i in chunk]
            width = max(len(r) for r in rows)
            ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
            mask = (ids != 0).long()
            generated = model.generate(input_ids=ids, attention_mask=mask, num_beams=num_beams, do_sample=False,
                                       max_new_tokens=min(max_len - 1, int(width * 1.6) + 8),
                                       no_repeat_ngram_size=no_repeat_ngram_size, early_stopping=num_beams > 1)
            for i, sequence in zip(chunk, generated.tolist()):
                text = tokenizer.decode(sequence, skip_special_tokens=True).strip()
                out[i] = text.upper() if shouted[i] else text
    return out
