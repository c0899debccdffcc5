"""LLM engine: any OpenAI-compatible server the author runs (Ollama, llama.cpp's llama-server, LM
Studio, vLLM, llama-cpp-python's server), through the `openai` client library.

The official client is used rather than hand-written HTTP: it is well kept, speaks every variant
of the chat API these servers implement, and retries a dropped connection or a busy server with
exponential backoff. Only the URL the author gave is contacted (`{url}/models`, `{url}/chat/completions`).

Structured output: the reply is asked for as JSON of the section schema through `response_format`
(the OpenAI `json_schema` form, which Ollama, llama-server and vLLM take; then llama-cpp-python's
`json_object` with a schema); a server that takes neither is asked in the prompt, and the reply is
validated like any other. A server that cannot be reached, or refuses (no such model, a key it does
not accept), stops the build with one line naming the URL: never a silent fallback.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from mediagen.engines.base import LLMEngine
from mediagen.errors import EngineUnavailable, InputError

RETRIES = 3
DEFAULT_TIMEOUT_S = 300.0
# The ways to ask for JSON of a schema, in the order they are tried: the first the server takes is kept.
_FORMATS = ("json_schema", "json_object", "prompt")


def _client(url: str, api_key_env: str | None, timeout: float):
    from openai import OpenAI

    key = os.environ.get(api_key_env, "") if api_key_env else ""
    if api_key_env and not key:
        raise InputError(f"--llm {url}: the API key variable {api_key_env} is not set")
    return OpenAI(base_url=url, api_key=key or "not-needed", timeout=timeout, max_retries=RETRIES)


def _models(url: str, api_key_env: str | None, timeout: float) -> list[dict[str, Any]]:
    """What the server serves (`GET {url}/models`), each entry as the server describes it."""
    import openai

    try:
        return [entry.model_dump() for entry in _client(url, api_key_env, timeout).models.list()]
    except openai.APIConnectionError as exc:
        raise EngineUnavailable(f"llm: cannot reach {url} ({_reason(exc)})") from None
    except openai.APIStatusError as exc:
        raise EngineUnavailable(f"llm: {url} refused the model list ({exc.status_code})") from None


def _reason(exc: Exception) -> str:
    cause = exc.__cause__ or exc
    return str(cause).split("\n")[0][:120] or type(cause).__name__


def _choose(url: str, model: str | None, served: list[dict[str, Any]]) -> dict[str, Any]:
    ids = [str(entry.get("id")) for entry in served]
    if model is None:
        if len(served) != 1:
            known = ", ".join(ids[:10]) or "none"
            raise InputError(f"--llm {url}: name the model with --llm-model (the server has: {known})")
        return served[0]
    for entry in served:
        if entry.get("id") == model:
            return entry
    raise EngineUnavailable(f"llm: {url} has no model '{model}' (it has: {', '.join(ids[:10]) or 'none'})")


class OpenAIServerEngine(LLMEngine):
    name = "openai"
    chat_model = True

    def __init__(
        self,
        url: str,
        model: str | None = None,
        api_key_env: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.options = {"url": url, "model": model, "api_key_env": api_key_env, "timeout": timeout}
        self.url = url
        self.model = str(_choose(url, model, _models(url, api_key_env, timeout))["id"])
        self._client = _client(url, api_key_env, timeout)
        self._format = 0  # the first of _FORMATS not yet refused by this server
        self._settled = False  # whether a reply came back in that format

    @classmethod
    def identity(
        cls,
        url: str,
        model: str | None = None,
        api_key_env: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        **_: object,
    ) -> str:
        """The server, the model and what the server says of it (Ollama and vLLM give a digest or a
        creation time): a model replaced under the same name is a new identity."""
        entry = _choose(url, model, _models(url, api_key_env, timeout))
        described = hashlib.sha256(json.dumps(entry, sort_keys=True, default=str).encode()).hexdigest()[:16]
        return f"openai:{url}:{entry.get('id')}:{described}"

    def chat(
        self, messages: list[dict[str, str]], *, json_schema: dict | None = None, max_tokens: int = 256
    ) -> str:
        import openai

        while True:
            how = _FORMATS[self._format] if json_schema is not None else "prompt"
            try:
                return self._ask(messages, json_schema, max_tokens, how)
            except openai.APIConnectionError as exc:
                raise EngineUnavailable(f"llm: lost {self.url} ({_reason(exc)})") from None
            except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
                raise EngineUnavailable(
                    f"llm: {self.url} refused ({exc.status_code}: {_detail(exc)})"
                ) from None
            except openai.APIStatusError as exc:
                if how == "prompt" or "response_format" not in _detail(exc) + str(exc):
                    raise EngineUnavailable(
                        f"llm: {self.url} failed ({exc.status_code}: {_detail(exc)})"
                    ) from None
                self._format += 1  # this server does not take that way of asking for JSON

    def _ask(self, messages: list[dict[str, str]], schema: dict | None, max_tokens: int, how: str) -> str:
        extra: dict[str, Any] = {}
        if how == "json_schema":
            extra["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "section", "schema": schema},
            }
        elif how == "json_object":
            extra["response_format"] = {"type": "json_object", "schema": schema}
        elif schema is not None:
            messages = [*messages[:-1], _with_schema(messages[-1], schema)]
        reply = self._create(
            bool(extra) and not self._settled,
            model=self.model, messages=messages, max_tokens=max_tokens, temperature=0, **extra,
        )  # fmt: skip
        self._settled = True
        return reply.choices[0].message.content or ""

    def _create(self, probing: bool, **request: Any) -> Any:
        """One chat completion. While the way to ask for JSON is not settled, a refusal is an answer,
        not a fault the client should retry (llama-cpp-python's server answers 500 to `json_schema`);
        a dropped connection is still retried, with backoff, here."""
        import openai

        if not probing:
            return self._client.chat.completions.create(**request)
        client = self._client.with_options(max_retries=0)
        for attempt in range(RETRIES):
            try:
                return client.chat.completions.create(**request)
            except openai.APIConnectionError:
                time.sleep(0.5 * 2**attempt)
        return client.chat.completions.create(**request)

    def complete(
        self,
        prompt: str,
        *,
        json_schema: dict | None = None,
        max_tokens: int = 256,
        stop: list[str] | None = None,
    ) -> str:
        return self.chat(
            [{"role": "user", "content": prompt}], json_schema=json_schema, max_tokens=max_tokens
        )


def _with_schema(message: dict[str, str], schema: dict) -> dict[str, str]:
    return message | {
        "content": f"{message['content']}\n\nThe JSON must follow this schema: {json.dumps(schema)}"
    }


def _detail(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    text = json.dumps(body) if isinstance(body, dict | list) else str(body or exc)
    return " ".join(text.split())[:160]
