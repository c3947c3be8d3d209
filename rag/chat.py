"""A question answered for a reader: the grounded answer first, then the optional LLM, streamed.

The grounded answer is ready at once; a UI shows it paragraph by paragraph. With an LLM
configured, its tokens stream over the same citations and the last item is the verified LLM
answer, or the grounded one marked "fallback" with the reason.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from rag.answer import Answer, Assistant
from rag.conversation import Conversation, Resolution
from rag.llm import llm_stream
from rag.llm_backends import LLMBackend
from rag.retrieve import one_question


class Chat:
    """The assistant and the LLM backend (or none) a session answers with."""

    def __init__(self, assistant: Assistant, llm: LLMBackend | None = None) -> None:
        self.assistant = assistant
        self.llm = llm

    def stream(self, question: str, region: str | None = None, doc_id: str | None = None, k: int = 5) -> Iterator[Answer]:
        """The answer as it grows; the last item is final."""
        with one_question():
            answer = self.assistant.ask(question, region=region, doc_id=doc_id, k=k)
        yield from self.present(answer)

    def stream_compare(self, sides: list[str], topic: str) -> Iterator[Answer]:
        """A comparison of the given regions on one topic, as it grows; the last item is final."""
        with one_question():
            answer = self.assistant.compare(sides, topic)
        yield from self.present(answer)

    def conversation(self) -> Conversation:
        """A new, empty conversation over this assistant's corpus (one per session)."""
        return Conversation(self.assistant.parse, self.assistant.store.gazetteer, self.assistant.store.corpus_text)

    def stream_turn(self, conversation: Conversation, message: str, region: str | None = None,
                    doc_id: str | None = None, k: int = 5) -> Iterator[Answer]:
        """A message within a conversation: a follow-up is answered as the standalone question it
        resolves to, shown above the answer; the last item is final and is recorded in the conversation."""
        resolution = conversation.resolve(message)
        if resolution.sides:
            with one_question():
                compared = self.assistant.compare(list(resolution.sides), resolution.topic, k=k)
            answers = self.present(compared)
        else:
            answers = self.stream(resolution.question, region=region, doc_id=doc_id, k=k)
        answer = None
        for answer in answers:
            yield shown(answer, message, resolution)
        if answer is not None:
            conversation.record(message, resolution, answer)

    def final_turn(self, conversation: Conversation, message: str) -> Answer:
        """The finished answer to one message of a conversation (the /chat API, `rag chat`, the eval)."""
        return [*self.stream_turn(conversation, message)][-1]

    def final(self, question: str) -> Answer:
        """The finished answer to one question (what the API and the eval read)."""
        return [*self.stream(question)][-1]

    def present(self, answer: Answer) -> Iterator[Answer]:
        if self.llm is not None and not answer.refused:
            yield from llm_stream(answer, self.llm)
            return
        paragraphs = answer.answer.split("\n\n")
        for end in range(1, len(paragraphs)):
            yield replace(answer, answer="\n\n".join(paragraphs[:end]))
        yield answer


def shown(answer: Answer, message: str, resolution: Resolution) -> Answer:
    """The answer to a follow-up, with the question it was understood as above it."""
    if not resolution.followup:
        return answer
    return replace(answer, question=message, resolved_question=resolution.question,
                   answer=f"按上文理解为：{resolution.question}\n\n{answer.answer}")
