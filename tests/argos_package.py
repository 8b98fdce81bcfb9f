"""Builds real, tiny Argos Translate packages for tests, with no download.

A package is what Argos ships: a zip of `metadata.json`, a SentencePiece model
trained here on a small corpus, and a CTranslate2 transformer written with
CTranslate2's own spec API. The network's weights are set, not learnt: every
layer adds nothing, and the output projection reads the decoder's position,
so the model writes one chosen sentence whatever it reads. That is not a
translation, but it is CTranslate2 running a real model through Argos'
tokenizer, and a test can tell the package's output from the input.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import sentencepiece as spm
from ctranslate2.specs import transformer_spec

WIDTH = 64
FFN_WIDTH = 64
MAX_POSITIONS = 1024
_SCALE = 10.0


def _sentencepiece(corpus: list[str]) -> bytes:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=model, vocab_size=120,
        hard_vocab_limit=False, character_coverage=1.0, model_type="unigram",
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2,
    )
    return model.getvalue()


def _weights(spec: transformer_spec.TransformerSpec, vocab_size: int,
             decoder_positions: np.ndarray, projection: np.ndarray) -> None:
    encoder, decoder = spec.encoder, spec.decoder
    zeros = lambda *shape: np.zeros(shape, dtype=np.float32)  # noqa: E731

    def norm(layer: object) -> None:
        layer.gamma = np.ones(WIDTH, dtype=np.float32)
        layer.beta = zeros(WIDTH)

    def linear(layer: object, rows: int, cols: int) -> None:
        layer.weight = zeros(rows, cols)
        layer.bias = zeros(rows)

    def attention(block: object) -> None:
        """Self-attention fuses queries, keys and values; cross-attention has the
        queries apart and keys with values fused."""
        norm(block.layer_norm)
        fused = [3 * WIDTH] if len(block.linear) == 2 else [WIDTH, 2 * WIDTH]
        for layer, rows in zip(block.linear, [*fused, WIDTH], strict=True):
            linear(layer, rows, WIDTH)

    def ffn(block: object) -> None:
        norm(block.layer_norm)
        linear(block.linear_0, FFN_WIDTH, WIDTH)
        linear(block.linear_1, WIDTH, FFN_WIDTH)

    encoder.embeddings[0].weight = zeros(vocab_size, WIDTH)
    encoder.position_encodings.encodings = zeros(MAX_POSITIONS, WIDTH)
    norm(encoder.layer_norm)
    for layer in encoder.layer:
        attention(layer.self_attention)
        ffn(layer.ffn)
    decoder.embeddings.weight = zeros(vocab_size, WIDTH)
    decoder.position_encodings.encodings = decoder_positions
    norm(decoder.layer_norm)
    for layer in decoder.layer:
        attention(layer.self_attention)
        attention(layer.attention)
        ffn(layer.ffn)
    decoder.projection.weight = projection
    decoder.projection.bias = zeros(vocab_size)


def build_package(directory: Path, from_code: str, to_code: str, output: str,
                  corpus: list[str]) -> Path:
    """Write `{from}_{to}.argosmodel` into `directory`; the model always answers `output`."""
    sp_model = _sentencepiece([*corpus, output] * 4)
    processor = spm.SentencePieceProcessor(model_proto=sp_model)
    vocab = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    targets = [*processor.encode(output), processor.eos_id()]
    if len(targets) >= WIDTH:
        raise ValueError("the output sentence has more pieces than the model has positions")
    # Position t gets a one-hot encoding; from the last target on, all look alike.
    positions = np.zeros((MAX_POSITIONS, WIDTH), dtype=np.float32)
    for t in range(MAX_POSITIONS):
        positions[t, min(t, len(targets) - 1)] = _SCALE
    projection = np.zeros((len(vocab), WIDTH), dtype=np.float32)
    for t, token in enumerate(targets):
        projection[token, t] = _SCALE
    spec = transformer_spec.TransformerSpec.from_config(num_layers=1, num_heads=2)
    _weights(spec, len(vocab), positions, projection)
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.validate()

    root = f"translate-{from_code}_{to_code}-1_0"
    staging = directory / f".build-{from_code}-{to_code}"
    (staging / "model").mkdir(parents=True, exist_ok=True)
    spec.save(str(staging / "model"))
    archive = directory / f"{from_code}_{to_code}.argosmodel"
    metadata = {
        "package_version": "1.0", "argos_version": "1.9", "type": "translate",
        "from_code": from_code, "from_name": from_code.upper(),
        "to_code": to_code, "to_name": to_code.upper(), "links": [],
    }
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr(f"{root}/metadata.json", json.dumps(metadata))
        package.writestr(f"{root}/sentencepiece.model", sp_model)
        for file in sorted((staging / "model").iterdir()):
            package.write(file, f"{root}/model/{file.name}")
    return archive
