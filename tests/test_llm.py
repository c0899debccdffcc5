"""The bundled LLM under a JSON schema: the same replies as llama-cpp-python's own grammar sampler."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mediagen.engines.llama import LlamaEngine, _GrammarGate
from mediagen.stages.script import COMPLETION_PROMPTS, LLM_SCHEMA
from mediagen.templating import Templates, search_path

SECTION = (
    "Our balcony sensor measures soil moisture every ten minutes. It stores the readings on a memory "
    "card. It has been running for 3 weeks on two AA batteries. The probe costs less than 8 dollars."
)


@pytest.fixture(scope="module")
def llama() -> LlamaEngine:
    return LlamaEngine()


def test_a_constrained_reply_is_what_llama_cpp_pythons_grammar_sampler_gives_and_fits_the_schema(llama):
    from llama_cpp import LlamaGrammar

    prompt = Templates(search_path(None)).render(
        COMPLETION_PROMPTS[0].format(lang="en"), title="Garden", text=SECTION
    )
    ours = llama.complete(prompt.rstrip(), json_schema=LLM_SCHEMA, max_tokens=320)
    llama._llm.reset()
    theirs = llama._llm.create_completion(
        prompt.rstrip(),
        max_tokens=320,
        temperature=0.0,
        repeat_penalty=1.15,
        grammar=LlamaGrammar.from_json_schema(json.dumps(LLM_SCHEMA, sort_keys=True), verbose=False),
    )["choices"][0]["text"]
    assert ours == theirs
    reply = json.loads(ours)
    assert 1 <= len(reply["narration"]) <= 6 and 3 <= len(reply["bullets"]) <= 5


def test_a_stop_string_ends_a_constrained_reply(llama):
    prompt = Templates(search_path(None)).render(
        COMPLETION_PROMPTS[0].format(lang="en"), title="Garden", text=SECTION
    )
    reply = llama.complete(prompt.rstrip(), json_schema=LLM_SCHEMA, max_tokens=320, stop=["]"])
    assert reply.startswith("{") and len(reply) > 20 and "]" not in reply


def test_the_grammar_gate_takes_the_best_allowed_token_from_the_top_or_else_the_whole_vocabulary(llama):
    import llama_cpp

    llm = llama._llm
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    (seven,) = llm.tokenize(b"7", add_bos=False)
    words = [
        token
        for token in set(llm.tokenize(SECTION.encode() * 3 + Path(__file__).read_bytes(), add_bos=False))
        if not any(ch.isdigit() for ch in llm.detokenize([token]).decode())
    ]
    assert len(words) > 40
    with _GrammarGate(vocab, "root ::= [0-9]+", llm.n_vocab()) as gate:
        logits = np.zeros(llm.n_vocab(), dtype=np.float32)
        logits[seven] = 5.0
        assert gate.choose(logits) == seven  # the best token is allowed
        logits[words[0]] = 10.0
        assert gate.choose(logits) == seven  # among the top few
        logits[words] = 10.0 + np.arange(len(words))
        logits[np.argsort(logits)[: llm.n_vocab() - 70]] = 0.0  # nothing allowed near the top
        logits[seven] = 5.0
        assert gate.choose(logits) == seven  # from the whole vocabulary
        gate.accept(seven)
        (three,) = llm.tokenize(b"3", add_bos=False)
        logits[seven], logits[three] = 0.0, 1.0  # after a digit: another digit, or the end
        assert gate.choose(logits) == three
        logits[three] = 0.0
        logits[llm.token_eos()] = 2.0
        assert gate.choose(logits) == llm.token_eos()
