"""The local OpenAI-compatible HTTP server (`python main.py serve`).

Qt-free. Only this package imports FastAPI, uvicorn and sse-starlette, and only when a server
is built (`app.server.api`, `app.server.runner`): importing `app.server` itself, or the CLI,
loads none of them, so the window's start-up does not pay for the server.

- `protocol`: the request bodies (OpenAI's shape, bounded) and the response builders.
- `tools`: OpenAI `tools` / `tool_choice` / `tool_calls` <-> the InternLM2 plugin protocol.
- `stops`: `stop` strings found in streamed text, without ever sending half of one.
- `engine_adapter`: the ONE place that meets the engine (prompt ids, fit check, a generation).
- `scheduler`: one generation at a time on its own thread, a bounded queue (429 beyond it).
- `security`: loopback Host check, Origin refusal, API key, body size cap and read deadline.
- `api`: the routes; `runner`: binding the port and running uvicorn (foreground or thread).
"""
