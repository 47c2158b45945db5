#!/usr/bin/env python3
"""A photon package: a counter whose manifest asks to be restarted always and checked every 5 s.

`luminal call py-counter crash` ends the worker; Luminal starts a new one at once (the count
starts again: state lives in the worker). Its start routine reads the step of `increment` from
the manifest's `config` through the host; `greeting` calls another photon through the host.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "protocol", "python"))

from luminal_photon import Photon, PhotonError, run  # noqa: E402

counter = Photon("py-counter", kinds=["IPhoton"], author="Luminal", version="1.0.0",
                 description="Counts, and survives its own crashes", tags=["example", "python", "package"])
count = int(os.environ.get("COUNTER_START", "0"))
step = 1


@counter.on_start
def begin(ctx):
    """Reads the manifest's config through the host: {"step": int}."""
    global step
    step = (ctx.host.call("config") or {}).get("step", 1)


@counter.method()
def increment(params, ctx):
    """{"by": int (default: the config's step)} -> the new count"""
    global count
    by = params.get("by", step) if isinstance(params, dict) else step
    if not isinstance(by, int) or isinstance(by, bool):
        raise PhotonError("invalid_params", "by must be an integer", data={"by": by})
    count += by
    return count


@counter.method()
def value(params, ctx):
    """-> the count"""
    return count


@counter.method()
def greeting(params, ctx):
    """-> swift-greeter's greeting for py-counter: a call to another photon, through the host."""
    return ctx.call("swift-greeter", "greet", {"who": "py-counter"})


@counter.method()
def crash(params, ctx):
    """Exits with status 3 at once: watch `luminal events` report the crash and the restart."""
    print("py-counter: crashing on request", flush=True)
    os._exit(3)


if __name__ == "__main__":
    run(counter)
