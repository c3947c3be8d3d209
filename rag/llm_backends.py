"""LLM backends (llama-index LLM classes), chosen by RAG_LLM.

- `openai`: any OpenAI-compatible chat-completions server (Ollama, vLLM, llama.cpp server)
  through `OpenAILike`; RAG_LLM_BASE_URL, RAG_LLM_MODEL, RAG_LLM_API_KEY.
- `local`: a Hugging Face model folder (RAG_LLM_MODEL_PATH) run by transformers on CPU;
  the top 3 clauses, at most 200 new tokens, stopped when RAG_LLM_TIMEOUT is exceeded.
- unset or `none`: no LLM.

A backend only streams text for chat messages; prompts and verification are `rag.llm`'s.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"   # Ollama's OpenAI-compatible endpoint
DEFAULTS = {  # per backend: time limit (s), new-token limit, clauses given, characters per clause
    "openai": {"timeout": 30.0, "max_tokens": 512, "max_clauses": 5, "clause_chars": 1200},
    "local": {"timeout": 120.0, "max_tokens": 200, "max_clauses": 3, "clause_chars": 500},
}


class LLMUnavailable(RuntimeError):
    """The backend cannot answer now: connection refused, server error, or time limit hit."""


class LLMBackend(Protocol):
    name: str

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """Text pieces as they are generated; raises LLMUnavailable on connection error / timeout."""
        ...


# -- backends -------------------------------------------------------------------------------
def _chat_messages(messages: list[dict[str, str]]) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]


class OpenAIBackend:
    """An OpenAI-compatible chat-completions server through llama-index's OpenAILike."""

    max_clauses = DEFAULTS["openai"]["max_clauses"]
    clause_chars = DEFAULTS["openai"]["clause_chars"]

    def __init__(self, base_url: str, model: str, api_key: str = "none", timeout: float = 30.0,
                 max_tokens: int = 512, temperature: float = 0.1, streaming: bool = True) -> None:
        from llama_index.llms.openai_like import OpenAILike

        self.name = f"openai:{model}"
        self.base_url, self.timeout, self.streaming = base_url, timeout, streaming
        # timeout: connect and every read (time to first token, gap between tokens);
        # max_retries=0: a dead server is reported at once instead of retried with back-off.
        self.llm = OpenAILike(model=model, api_base=base_url, api_key=api_key or "none", is_chat_model=True,
                              is_function_calling_model=False, timeout=timeout, max_retries=0,
                              max_tokens=max_tokens, temperature=temperature, context_window=8192)
        # The whole answer gets at most four read timeouts' worth of time.
        self.total_timeout = 4 * timeout

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        import httpx
        import openai

        deadline = time.monotonic() + self.total_timeout
        try:
            if not self.streaming:
                yield self.llm.chat(_chat_messages(messages)).message.content or ""
                return
            for response in self.llm.stream_chat(_chat_messages(messages)):
                if response.delta:
                    yield response.delta
                if time.monotonic() > deadline:
                    raise LLMUnavailable(f"LLM 超时（{self.total_timeout:g} 秒内没有答完）")
        except (openai.APITimeoutError, httpx.TimeoutException):
            raise LLMUnavailable(f"LLM 超时（{self.timeout:g} 秒内没有回应）") from None
        except (openai.APIConnectionError, httpx.TransportError) as error:
            raise LLMUnavailable(f"连不上 LLM 服务 {self.base_url}（{type(error).__name__}）") from None
        except openai.APIStatusError as error:
            raise LLMUnavailable(f"LLM 服务返回错误 {error.status_code}") from None


def _transformers_llm_class() -> type:
    """A llama-index CustomLLM over transformers (built on first use: imports torch)."""
    import torch
    from llama_index.core.base.llms.generic_utils import (completion_response_to_chat_response,
                                                          stream_completion_response_to_chat_response)
    from llama_index.core.bridge.pydantic import PrivateAttr
    from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
    from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    class Deadline(StoppingCriteria):
        """Stops generation when the time limit is exceeded or the reader went away; counts tokens."""

        def __init__(self, timeout: float, stop: threading.Event, prompt_len: int, stats: dict) -> None:
            self.start, self.timeout, self.stop, self.prompt_len, self.stats = time.monotonic(), timeout, stop, prompt_len, stats

        def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
            self.stats["new_tokens"] = input_ids.shape[1] - self.prompt_len
            late = time.monotonic() - self.start > self.timeout
            if late:
                self.stats["stopped"] = "timeout"
            return torch.full((input_ids.shape[0],), late or self.stop.is_set(), dtype=torch.bool, device=input_ids.device)

    class TransformersLLM(CustomLLM):
        """A local causal LM (AutoModelForCausalLM + TextIteratorStreamer), greedy, on CPU."""

        model_path: str
        max_new_tokens: int = 200
        timeout: float = 120.0
        context_window: int = 4096
        dtype: str = "float32"
        _model: Any = PrivateAttr(default=None)
        _tokenizer: Any = PrivateAttr(default=None)
        _load_lock: Any = PrivateAttr(default_factory=threading.Lock)
        _run_lock: Any = PrivateAttr(default_factory=threading.Lock)
        _last_stats: dict = PrivateAttr(default_factory=dict)

        @classmethod
        def class_name(cls) -> str:
            return "rag_transformers_llm"

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=self.context_window, num_output=self.max_new_tokens,
                               model_name=self.model_path, is_chat_model=True)

        @property
        def last_stats(self) -> dict:
            """new_tokens and why the last generation stopped: eos, max_new_tokens, timeout, closed."""
            return dict(self._last_stats)

        def load(self) -> tuple[Any, Any]:
            with self._load_lock:
                if self._model is None:
                    from transformers import AutoModelForCausalLM, AutoTokenizer

                    self._tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
                    self._model = AutoModelForCausalLM.from_pretrained(
                        self.model_path, local_files_only=True, dtype=getattr(torch, self.dtype)).eval()
            return self._tokenizer, self._model

        def chat_prompt(self, messages: Any) -> str:
            tokenizer, _ = self.load()
            plain = [{"role": m.role.value, "content": m.content or ""} for m in messages]
            return tokenizer.apply_chat_template(plain, tokenize=False, add_generation_prompt=True)

        def generate(self, prompt: str) -> Iterator[str]:
            tokenizer, model = self.load()
            with self._run_lock:
                inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
                prompt_len = inputs["input_ids"].shape[1]
                stats = {"new_tokens": 0, "stopped": "eos", "prompt_tokens": prompt_len}
                self._last_stats = stats
                stop = threading.Event()
                # The reader waits at most a little beyond the limit for the next piece (the
                # prompt's prefill cannot be interrupted by a stopping criterion).
                streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True,
                                                timeout=self.timeout + 30)
                errors: list[BaseException] = []

                def run() -> None:
                    try:
                        with torch.inference_mode():
                            model.generate(**inputs, streamer=streamer, max_new_tokens=self.max_new_tokens,
                                           do_sample=False, stopping_criteria=StoppingCriteriaList(
                                               [Deadline(self.timeout, stop, prompt_len, stats)]),
                                           pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None
                                           else tokenizer.eos_token_id)
                    except BaseException as error:  # reported to the reader below
                        errors.append(error)
                        streamer.end()

                thread = threading.Thread(target=run, name="rag-llm-generate", daemon=True)
                thread.start()
                finished = False
                try:
                    try:
                        for piece in streamer:
                            yield piece
                        finished = True
                    except Exception:  # queue.Empty: nothing arrived within the limit
                        stats["stopped"] = "timeout"
                finally:
                    if not finished:  # timed out, or the reader stopped early
                        stop.set()
                        if stats["stopped"] != "timeout":
                            stats["stopped"] = "closed"
                    thread.join()
                if errors:
                    raise errors[0]
                if stats["stopped"] == "timeout":
                    raise LLMUnavailable(f"本地模型超时（{self.timeout:g} 秒内没有生成完，已停止生成）")
                if stats["new_tokens"] >= self.max_new_tokens:
                    stats["stopped"] = "max_new_tokens"

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            return CompletionResponse(text="".join(self.generate(prompt)))

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Iterator[CompletionResponse]:
            def gen() -> Iterator[CompletionResponse]:
                text = ""
                for piece in self.generate(prompt):
                    text += piece
                    yield CompletionResponse(text=text, delta=piece)

            return gen()

        @llm_chat_callback()
        def chat(self, messages: Any, **kwargs: Any) -> Any:
            return completion_response_to_chat_response(self.complete(self.chat_prompt(messages), formatted=True))

        @llm_chat_callback()
        def stream_chat(self, messages: Any, **kwargs: Any) -> Any:
            return stream_completion_response_to_chat_response(self.stream_complete(self.chat_prompt(messages), formatted=True))

    return TransformersLLM


class LocalBackend:
    """A Hugging Face model folder copied onto this machine, run by transformers on CPU."""

    max_clauses = DEFAULTS["local"]["max_clauses"]
    clause_chars = DEFAULTS["local"]["clause_chars"]

    def __init__(self, model_path: str | Path, max_new_tokens: int = 200, timeout: float = 120.0,
                 dtype: str = "float32") -> None:
        path = Path(model_path).expanduser()
        if not (path / "config.json").is_file():
            raise ValueError(f"RAG_LLM_MODEL_PATH={model_path} 不是模型文件夹（缺少 config.json）")
        self.name = f"local:{path}"
        self.llm = _transformers_llm_class()(model_path=str(path), max_new_tokens=max_new_tokens,
                                             timeout=timeout, dtype=dtype)

    @property
    def last_stats(self) -> dict:
        return self.llm.last_stats

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        for response in self.llm.stream_chat(_chat_messages(messages)):
            if response.delta:
                yield response.delta


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def load_backend(kind: str | None = None) -> LLMBackend | None:
    """The backend RAG_LLM (or `kind`) names, configured from the environment; None for none.

    Raises ValueError for an unknown kind or missing settings, so a CLI can say what to set.
    """
    kind = (os.environ.get("RAG_LLM", "") if kind is None else kind).strip().lower()
    if kind in ("", "none", "off", "0", "false"):
        return None
    if kind not in DEFAULTS:
        raise ValueError(f"RAG_LLM={kind!r}：只能是 none、openai 或 local")
    defaults = DEFAULTS[kind]
    timeout = _env_float("RAG_LLM_TIMEOUT", defaults["timeout"])
    max_tokens = int(_env_float("RAG_LLM_MAX_TOKENS", defaults["max_tokens"]))
    if kind == "openai":
        model = os.environ.get("RAG_LLM_MODEL")
        if not model:
            raise ValueError("RAG_LLM=openai 需要 RAG_LLM_MODEL（服务端的模型名，如 qwen2.5:1.5b）")
        return OpenAIBackend(os.environ.get("RAG_LLM_BASE_URL") or DEFAULT_BASE_URL, model,
                             os.environ.get("RAG_LLM_API_KEY") or "none", timeout=timeout, max_tokens=max_tokens,
                             streaming=os.environ.get("RAG_LLM_STREAM", "1") not in ("0", "false", "no"))
    model_path = os.environ.get("RAG_LLM_MODEL_PATH")
    if not model_path:
        raise ValueError("RAG_LLM=local 需要 RAG_LLM_MODEL_PATH（本机上的 Hugging Face 模型文件夹）")
    return LocalBackend(model_path, max_new_tokens=max_tokens, timeout=timeout,
                        dtype=os.environ.get("RAG_LLM_DTYPE", "float32"))
