"""The tiny FLUX base's T5 tokenizer, built offline from the course's own lesson text.

A real FLUX base ships T5-XXL's SentencePiece vocabulary; the demo base has random weights, so
any vocabulary will do as long as it is real tokenization: a Unigram model (the algorithm
SentencePiece uses) trained with the `tokenizers` library on app/lessons/content, saved as a
tokenizer.json that transformers' T5TokenizerFast loads."""

import json
from pathlib import Path

LESSONS = Path(__file__).resolve().parents[2] / "lessons" / "content"
SPECIAL = ["<pad>", "</s>", "<unk>"]  # T5's ids 0, 1, 2
VOCAB_SIZE = 2000  # small: the tiny T5's embedding table stays a few hundred kB
MAX_LENGTH = 128  # tokens per caption for the demo (full-size FLUX.1-dev reads 512)


def lesson_text() -> list[str]:
    """The lesson markdown, one paragraph per item, in a fixed order."""
    files = sorted(LESSONS.rglob("*.md"))
    if not files:
        raise FileNotFoundError(f"no lesson text under {LESSONS} to build the demo tokenizer from")
    paragraphs = []
    for path in files:
        paragraphs += [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return paragraphs


def build_t5_tokenizer(folder: Path) -> Path:
    """Train the Unigram tokenizer on the lessons and write it to folder as a T5 tokenizer."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    # T5's SentencePiece marks word starts with "▁"; Metaspace does the same
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=SPECIAL, unk_token="<unk>", show_progress=False
    )
    tokenizer.train_from_iterator(lesson_text(), trainer=trainer)
    # T5 ends every sequence with </s>
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", tokenizer.token_to_id("</s>"))]
    )
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {
        "tokenizer_class": "T5Tokenizer",
        "model_max_length": MAX_LENGTH,
        "pad_token": "<pad>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "extra_ids": 0,
        "additional_special_tokens": [],
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    return folder
