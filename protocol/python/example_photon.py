#!/usr/bin/env python3
"""Example Luminal photon file: hosts one photon, "py-greeter", written with luminal_photon."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from luminal_photon import Photon, PhotonError, run  # noqa: E402

greeter = Photon("py-greeter", kinds=["IPhoton"], author="Luminal", version="1.0.0",
                 description="Example photon written in Python", tags=["example", "python"])


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@greeter.on_start
def start(ctx):
    print("py-greeter started")


@greeter.on_stop
def stop(ctx):
    print("py-greeter stopped")


@greeter.method()
def greet(params, ctx):
    """{"who": str} -> {"greeting": "Hello, <who>!"}; who defaults to "world" when absent."""
    if not isinstance(params, (dict, type(None))):
        raise PhotonError("invalid_params", "params must be an object")
    who = (params or {}).get("who", "world")
    if not isinstance(who, str):
        raise PhotonError("invalid_params", "who must be a string", data={"who": who})
    return {"greeting": f"Hello, {who}!"}


@greeter.method()
def add(params, ctx):
    """{"a": number, "b": number} -> {"sum": a + b}"""
    if not isinstance(params, dict) or not (_is_number(params.get("a")) and _is_number(params.get("b"))):
        raise PhotonError("invalid_params", "a and b must be numbers")
    return {"sum": params["a"] + params["b"]}


@greeter.method("pid")
def process_id(params, ctx):
    """-> the worker's process id"""
    return os.getpid()


@greeter.method()
def fail(params, ctx):
    """Always fails with photon_error."""
    raise PhotonError("photon_error", "asked to fail")


@greeter.method()
def tick(params, ctx):
    """Emits the event "tick" with {"n": params.n (default 1)}, then returns null."""
    n = params.get("n", 1) if isinstance(params, dict) else 1
    ctx.emit("tick", {"n": n})


@greeter.method()
def spell(params, ctx):
    """{"word": str} -> its letters: one part each when the caller streams (`luminal call
    py-greeter spell '{"word": "hi"}' --stream`), each sent once the caller has taken enough of
    those before; else the list of them."""
    word = params.get("word", "") if isinstance(params, dict) else ""
    if not isinstance(word, str):
        raise PhotonError("invalid_params", "word must be a string")
    if not ctx.streamed:
        return list(word)
    for letter in word:
        ctx.send_part(letter)
    return None


def _seconds(params):
    """The wait a nap asks for: params.seconds, from 0 to 60 (default 0.001)."""
    seconds = params.get("seconds", 0.001) if isinstance(params, dict) else 0.001
    if not _is_number(seconds) or not 0 <= seconds <= 60:
        raise PhotonError("invalid_params", "seconds must be a number from 0 to 60")
    return seconds


@greeter.method()
async def nap(params, ctx):
    """{"seconds": s (default 0.001)} -> null after s seconds awaited on the runtime's asyncio
    loop: any number of naps wait at once, and a cancel ends one at once."""
    import asyncio  # here, not at the top: the runtime imports asyncio only once a handler needs it
    await asyncio.sleep(_seconds(params))


@greeter.method()
def nap_in_thread(params, ctx):
    """The same wait on one of the runtime's method threads (8 naps at most at once)."""
    time.sleep(_seconds(params))


if __name__ == "__main__":
    run(greeter)
