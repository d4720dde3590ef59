"""A TCP proxy on loopback that can lose an answer: what a client sees when its server dies right
after carrying out a command (Redis SIGKILLed between running a call and replying to it).

``cut_next()``: the next data a client sends is delivered and the server's answer read and thrown
away; then every connection is closed, as a dead server's are, and new ones refused until
``resume()``. One command, one answer at a time (no pipelining), answers under 64 KB.
"""

from __future__ import annotations

import socket
import threading


class CutProxy:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed = threading.Event()
        self.refusing = threading.Event()
        self.cut = threading.Event()  # set once an answer was thrown away
        self.stopped = False
        self.live: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def cut_next(self) -> None:
        self.cut.clear()
        self.armed.set()

    def resume(self) -> None:
        self.refusing.clear()

    def close(self) -> None:
        self.stopped = True
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing.is_set():
                client.close()
                continue
            server = socket.create_connection(self.target)
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.live |= {client, server}
            threading.Thread(target=self._serve, args=(client, server), daemon=True).start()

    def _serve(self, client: socket.socket, server: socket.socket) -> None:
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    return
                server.sendall(data)
                answer = server.recv(65536)
                if self.armed.is_set():  # carried out, its answer lost with the "server"
                    self.armed.clear()
                    self.refusing.set()
                    with self.lock:
                        for s in self.live:
                            s.close()
                    self.cut.set()
                    return
                client.sendall(answer)
        except OSError:
            return
        finally:
            with self.lock:
                self.live -= {client, server}
            client.close()
            server.close()
