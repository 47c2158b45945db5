"""Luminal photon runtime for Python 3.11+ (standard library only).

A photon file declares one or more :class:`Photon` objects, registers handlers on them and
calls :func:`run`, which speaks the Luminal worker protocol version 1 (``protocol/PROTOCOL.md``)
on the file descriptors the host gives the worker: frames are read from fd 3 and written to
fd 4. stdout and stderr are plain log streams; ``print()`` never disturbs the protocol.

    from luminal_photon import Photon, PhotonError, run

    greeter = Photon("greeter", kinds=["IPhoton"], author="Ada", version="1.0.0")

    @greeter.method()
    def greet(params, ctx):
        if not isinstance(params, dict) or not isinstance(params.get("who"), str):
            raise PhotonError("invalid_params", "who must be a string")
        ctx.emit("greeted", {"who": params["who"]})
        return {"greeting": f"Hello, {params['who']}!"}

    run(greeter)

Handlers run on a pool of ``max_workers`` threads (default 8), so a slow call delays neither
pings nor other calls. A handler written ``async def`` (a method, a start routine, a finalizer)
runs instead on an asyncio loop the runtime keeps on a thread of its own: any number of them
wait at once without taking a thread. A cancel reaches such a method as ``asyncio.CancelledError``
at its next ``await`` (the call is then answered ``cancelled``); deadlines are read as for the
others (``ctx.remaining()``). A coroutine that holds the loop without awaiting for over a second
is named in a warning on stderr (once per stall, at most one every 10 s); pings are answered all
the same. While async handlers run, the loop itself reads the host's frames (no hand-over between
threads per call); within 0.2 s of a stall of the loop the main thread reads them again, until the
loop has turned for a second. Timers on the loop fire on time (``asyncio.sleep(0.001)`` waits about
1 ms, not up to 2 as with asyncio's own epoll selector), unless the photon installed an event loop
policy of its own (uvloop's, say): the loop is then that policy's. When every thread is busy and a request has to wait for one, a warning
says so on stderr (at most one every 10 s, with the count of those left out meanwhile). Calls are served from a successful start until stop; a call to a photon
not started, or a second start, is answered ``invalid_state``. A :class:`Context` is handed to
every handler; it may be kept and used to emit events from any thread. A method gets a
:class:`CallContext`: it says when the host cancelled the call (``ctx.cancelled``,
``ctx.wait_cancelled(timeout)``) and how long the caller waits (``ctx.deadline``,
``ctx.remaining()``); ``ctx.check()`` raises the matching error. ``@p.method(idempotent=True)``
declares a method safe to run again after a crash. Every context calls back: ``ctx.host.call(name,
params)`` runs a host function (PROTOCOL.md section 3.4; the built-in ``config`` returns the
package manifest's ``config``) and ``ctx.call(photon, method, params)`` another photon's method
through the host, within this call's deadline and cancelled with it; a sync handler waits for the
reply (another pool thread takes its place meanwhile), an ``async def`` one awaits it. A method
of a streamed call sends parts of its result with ``ctx.send_part(value)``, waiting for the
caller's credit (``ctx.streamed`` says whether the caller asked for parts). A package whose manifest
declares ``sockets`` finds the listening sockets the host holds for it with :func:`held_sockets`
(PROTOCOL.md section 1.1). ``print()`` output is line-buffered and written at once; a
last line without a newline may be lost when the worker exits.

Exit status: 0 on ``shutdown``, end of file on fd 3 or EPIPE on fd 4; 70 if the host breaks the protocol (a
bad frame or message: the reason is written to stderr) or fds 3/4 are not usable.

The package: ``_wire`` (the protocol's constants and its strict JSON), ``_photon`` (:class:`Photon`),
``_context`` (:class:`Context`, :class:`CallContext`, :class:`Host`, :class:`PhotonError`),
``_worker`` (:func:`run` and the engine: the method threads, replies, dispatch), ``_input``
(reading fd 3, on the main thread or the asyncio loop), ``_loop`` (the asyncio loop and its stall
watch), ``_host_calls`` (calls to the host), ``_sockets`` (:func:`held_sockets`, the listening
sockets a manifest's ``sockets`` hands the worker) and ``_warning`` (rate-limited warnings).
"""

from __future__ import annotations

from ._context import NO_DATA, CallContext, Context, Host, PhotonError
from ._photon import Photon
from ._sockets import held_socket_fds, held_sockets
from ._wire import frame_cap, protocol_versions
from ._worker import run

__all__ = ["Photon", "PhotonError", "Context", "CallContext", "Host", "NO_DATA", "run", "frame_cap", "protocol_versions",
           "held_sockets", "held_socket_fds"]
