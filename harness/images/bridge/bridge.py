"""A TCP forwarder: ``bridge.py LISTEN_PORT HOST PORT`` accepts on LISTEN_PORT and pipes each connection to
HOST:PORT, resolved at every connection (a rescheduled Swarm task comes back under a new address).

A connection the target refuses is closed at once, and the bridge goes on serving: the harness sees the
service down, as it would through a port Compose publishes.
"""

import contextlib
import socket
import sys
import threading

CHUNK = 65536
CONNECT_TIMEOUT_S = 5.0


def pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(CHUNK):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


def serve(client: socket.socket, host: str, port: int) -> None:
    try:
        upstream = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
    except OSError as exc:
        print(f"bridge: {host}:{port} refused a connection: {exc}", file=sys.stderr, flush=True)
        client.close()
        return
    upstream.settimeout(None)
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
    pipe(client, upstream)
    client.close()
    upstream.close()


def main() -> None:
    listen_port, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    listener = socket.create_server(("0.0.0.0", listen_port), backlog=256)
    print(f"bridge: :{listen_port} -> {host}:{port}", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, host, port), daemon=True).start()


if __name__ == "__main__":
    main()
