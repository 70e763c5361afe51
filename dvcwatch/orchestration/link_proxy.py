"""A loopback TCP proxy that stands for one ward's link to the portal, and can be cut.

`dvcwatch stack` puts a ward's prober behind one of these so a one-vantage outage can be staged
without touching the portal: SIGUSR1 cuts the link (bytes are dropped in both directions, new
connections are accepted and left silent, exactly what a dead line looks like to the prober: a
timeout, not a refusal), SIGUSR2 restores it. A file `<state-file>` records "up" or "down".

    python -m dvcwatch.orchestration.link_proxy --listen 127.0.0.1:0 --upstream 127.0.0.1:8480 --state-file link.state
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from dvcwatch.core.politeness import is_loopback

CHUNK = 65536


class LinkProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.cut = False

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                if self.cut:
                    continue  # a dead line: nothing gets through, nothing is refused
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            if self.cut:
                await client_r.read()  # hold the connection silently until the client gives up
                return
            try:
                up_r, up_w = await asyncio.open_connection(*self.upstream)
            except OSError:
                return
            await asyncio.gather(self._pipe(client_r, up_w), self._pipe(up_r, client_w))
        finally:
            with contextlib.suppress(Exception):
                client_w.close()


def _hostport(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


async def serve(args: argparse.Namespace) -> None:
    proxy = LinkProxy(*_hostport(args.upstream))
    host, port = _hostport(args.listen)
    server = await asyncio.start_server(proxy.handle, host, port)
    bound = server.sockets[0].getsockname()
    state = Path(args.state_file) if args.state_file else None

    def set_cut(cut: bool) -> None:
        proxy.cut = cut
        if state:
            state.write_text("down\n" if cut else "up\n")

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, set_cut, True)
    loop.add_signal_handler(signal.SIGUSR2, set_cut, False)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    set_cut(False)
    print(f"link {bound[0]}:{bound[1]} → {args.upstream} (SIGUSR1 cuts, SIGUSR2 restores)", flush=True)
    async with server:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m dvcwatch.orchestration.link_proxy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to accept on (port 0: any)")
    p.add_argument("--upstream", required=True, help="HOST:PORT of the portal")
    p.add_argument("--state-file", help='keep "up" or "down" here')
    args = p.parse_args(argv)
    for value in (args.listen, args.upstream):
        if not is_loopback(_hostport(value)[0]):
            print(f"error: {value} is not a loopback address", file=sys.stderr)
            return 2
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
