"""A stand-in OpenAI-compatible chat-completions server for the LLM tests.

Run as its own process: `python tests/fake_openai_server.py` binds 127.0.0.1 on a free port
and prints `PORT <n>` on its first line. POST /v1/chat/completions answers in the protocol's
two forms (SSE chunks when "stream": true, one JSON object otherwise) with a recorded answer
chosen by the request's "model" field; GET /last returns the last request body, so a test
can check the prompt that was sent. Models:

- good, bad-cite, bad-unit, bad-number, swap-lead, no-cite, refuse, think: replay ANSWERS[model]
- slow: sleeps SLOW_SECONDS before answering (past the client's timeout)
- stall: sends the first chunk, then sleeps SLOW_SECONDS
- error: HTTP 500
"""
from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_SECONDS = 10.0
ANSWERS = {
    "good": "燃气安全专项整治由城管局牵头，发改局等配合[1]。",
    "bad-cite": "燃气安全专项整治由城管局牵头，发改局等配合[9]。",
    "bad-unit": "燃气安全专项整治由住建局牵头，发改局等配合[1]。",
    "bad-number": "2025年前完成全部市政管网改造[1]。",
    "swap-lead": "发改局牵头，城管局等配合[1]。",
    "no-cite": "燃气安全专项整治由城管局牵头，发改局等配合。",
    "refuse": "语料中未找到能回答该问题的内容。",
    "think": "<think>用户问牵头单位，条款[1]写明了。</think>城管局牵头，发改局等配合[1]。",
    "stall": "城管局牵头，发改局等配合[1]。",
    "slow": "城管局牵头，发改局等配合[1]。",
}
last_request: dict = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"   # the body ends when the connection closes (SSE needs no length)

    def log_message(self, *args) -> None:  # quiet
        pass

    def send_json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/last":
            self.send_json(200, last_request)
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        if not self.path.endswith("/chat/completions"):
            self.send_json(404, {"error": {"message": "not found"}})
            return
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        last_request.clear()
        last_request.update(request)
        model = request.get("model", "good")
        if model == "error":
            self.send_json(500, {"error": {"message": "model crashed", "type": "server_error"}})
            return
        if model == "slow":
            time.sleep(SLOW_SECONDS)
        answer = ANSWERS.get(model, ANSWERS["good"])
        try:
            if request.get("stream"):
                self.stream(model, answer)
            else:
                self.send_json(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": len(answer), "total_tokens": 10 + len(answer)}})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout)

    def stream(self, model: str, answer: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def chunk(delta: dict, finish: str | None = None) -> None:
            payload = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                       "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            self.wfile.write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()

        chunk({"role": "assistant", "content": ""})
        pieces = [answer[i:i + 3] for i in range(0, len(answer), 3)]
        for i, piece in enumerate(pieces):
            chunk({"content": piece})
            if model == "stall" and i == 0:
                time.sleep(SLOW_SECONDS)
        chunk({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
