"""Settings > Local server: the window serves its loaded model to other programs (off by default).

The server (app/server) answers HTTP on its own threads; every piece of model work goes to the
inference thread through InferenceClient.run_on_model, so the window's replies and the API's
take turns on one model and one prefix cache. Decision: while a program's request runs, the
window's own reply WAITS its turn (it starts when the request ends; Stop still applies) and the
status bar says why; a program's request waits likewise for the window's reply. Starting the
server (importing FastAPI and uvicorn, binding the port) runs off the GUI thread.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.engine.backend import Backend
from app.errors import UserError
from app.ui.window.core_text import error_text
from app.ui.workers.inference_worker import InferenceClient

DEFAULT_PORT = 8080


def new_api_key() -> str:
    return f"sk-local-{secrets.token_urlsafe(24)}"


def client_example(port: int, key: str) -> str:
    """What "Copy example" puts on the clipboard: curl and Python (code, not translated)."""
    url = f"http://127.0.0.1:{port}/v1"
    return (f"curl {url}/chat/completions -H \"Authorization: Bearer {key}\" "
            f"-H \"Content-Type: application/json\" "
            f"-d '{{\"model\": \"internlm2\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hello\"}}]}}'\n\n"
            f"from openai import OpenAI  # pip install openai\n"
            f"client = OpenAI(base_url=\"{url}\", api_key=\"{key}\")\n"
            f"reply = client.chat.completions.create(model=\"internlm2\", "
            f"messages=[{{\"role\": \"user\", \"content\": \"Hello\"}}])\n"
            f"print(reply.choices[0].message.content)\n")


class _ModelChanged(UserError):
    """The window loaded another model while a request waited for the old one."""


class LocalServerHost(QObject):
    """Runs app.server's LocalServer on the window's loaded model while enabled."""

    stateChanged = Signal(str)  # a sentence: where it serves, or why it does not
    servingChanged = Signal(bool)  # a program's request runs on the model
    _started = Signal(object, int)  # (LocalServer or a sentence, generation)

    def __init__(self, client: InferenceClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._enabled = False
        self._port = DEFAULT_PORT
        self._key = ""
        self._server: Any = None  # app.server.runner.LocalServer, imported only when serving
        self._generation = 0  # a start that a later change made stale is stopped on arrival
        self._stopping: threading.Thread | None = None  # stopping waits for a running request
        self.url = ""
        client.loaded.connect(lambda _info: self._restart())
        client.unloaded.connect(self.stop)
        client.serving.connect(self.servingChanged)
        self._started.connect(self._on_started)

    def configure(self, enabled: bool, port: int, key: str) -> None:
        """Apply the settings (restarts only when something changed)."""
        if (enabled, port, key) == (self._enabled, self._port, self._key) and (self._server or not enabled):
            return
        self._enabled, self._port, self._key = enabled, port, key
        self._restart()

    def _restart(self) -> None:
        self.stop()
        if not self._enabled:
            return
        backend = self._client.worker.backend
        if backend is None:
            self.stateChanged.emit(self.tr("The local server starts when a model is loaded."))
            return
        generation = self._generation
        threading.Thread(target=self._start, args=(backend, generation, self._stopping), name="local-server-start",
                         daemon=True).start()

    def _start(self, backend: Backend, generation: int, stopping: threading.Thread | None) -> None:
        """Off the GUI thread: import the server stack, bind the port, start uvicorn."""
        if stopping is not None:
            stopping.join()  # the previous server lets go of the port first
        try:
            from app.server.engine_adapter import EngineAdapter
            from app.server.runner import LocalServer, ServerOptions, bind

            sock = bind("127.0.0.1", self._port)
            options = ServerOptions(port=self._port, api_key=self._key or None)
            server = LocalServer(EngineAdapter(backend), options, sock, dispatch=self._dispatch(backend))
            self._started.emit(server.start(), generation)
        except UserError as exc:
            self._started.emit(error_text(exc), generation)  # in the user's language

    def _on_started(self, outcome: object, generation: int) -> None:
        if isinstance(outcome, str):
            self.stateChanged.emit(self.tr("The local server is not running: {reason}").format(reason=outcome))
            return
        if generation != self._generation or not self._enabled:
            threading.Thread(target=outcome.stop, daemon=True).start()  # type: ignore[attr-defined]
            return
        self._server = outcome
        self.url = outcome.url  # type: ignore[attr-defined]
        self.stateChanged.emit(self.tr("Serving the model to other programs at {url}").format(url=self.url))

    def _dispatch(self, backend: Backend) -> Callable[[Callable[[], Any]], Any]:
        def run(work: Callable[[], Any]) -> Any:
            def on_model(current: Backend | None) -> Any:
                if current is not backend:
                    raise _ModelChanged("The window changed the model; send the request again.")
                return work()

            return self._client.run_on_model(on_model).result()

        return run

    def stop(self) -> None:
        """Stop serving, off the GUI thread: what runs is cancelled (it ends between two tokens),
        but a request waiting behind the window's own reply ends only after it."""
        self._generation += 1
        server, self._server, self.url = self._server, None, ""
        if server is not None:
            self._stopping = threading.Thread(target=server.stop, name="local-server-stop", daemon=True)
            self._stopping.start()
