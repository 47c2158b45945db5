"""A photon: its name, kinds, metadata and handlers, as the hello describes it."""

from __future__ import annotations

import re
from typing import Any, Callable, overload

from ._context import Context

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

Handler = Callable[[Any, Context], Any]


_CO_COROUTINE = 0x80                  # the code flag of an ``async def`` function


def _is_async(fn: Callable[..., Any] | None) -> bool:
    """Whether fn is an ``async def`` handler (run on the runtime's asyncio loop): a coroutine
    function, a bound method of one, or a ``functools.partial`` of one."""
    while fn is not None and not hasattr(fn, "__code__"):
        fn = getattr(fn, "func", None) or getattr(fn, "__func__", None)
    return fn is not None and bool(fn.__code__.co_flags & _CO_COROUTINE)


class Photon:
    """A named photon: its kinds, metadata, methods and optional start/stop routines."""

    def __init__(self, name: str, kinds: list[str] | tuple[str, ...] = (), *,
                 author: str | None = None, version: str | None = None,
                 description: str | None = None, tags: list[str] | None = None,
                 metadata: dict[str, Any] | None = None):
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"invalid photon name {name!r}: must match {_NAME.pattern}")
        if isinstance(kinds, str) or not all(isinstance(k, str) for k in kinds):
            raise TypeError("kinds must be a list of strings")
        self.name, self.kinds = name, list(kinds)
        self.metadata = dict(metadata or {})
        for key, value in (("author", author), ("version", version),
                           ("description", description), ("tags", tags)):
            if value is not None:
                self.metadata[key] = list(value) if key == "tags" else value
        self.methods: dict[str, Handler] = {}
        self.idempotent: list[str] = []
        self.start_handler: Callable[[Context], Any] | None = None
        self.stop_handler: Callable[[Context], Any] | None = None

    @overload
    def method(self, name: Handler, *, idempotent: bool = False) -> Handler: ...

    @overload
    def method(self, name: str | None = None, *, idempotent: bool = False) -> Callable[[Handler], Handler]: ...

    def method(self, name: str | Handler | None = None, *,
               idempotent: bool = False) -> Handler | Callable[[Handler], Handler]:
        """Register ``fn(params, ctx)`` as a method: ``@p.method``, ``@p.method()`` or
        ``@p.method("name")``. Its return value is the call's result (None -> null).
        ``idempotent=True``: a call in flight when the worker crashed is sent again to the
        next worker process."""
        def register(fn: Handler, method_name: str | None = None) -> Handler:
            method_name = method_name or fn.__name__
            if not isinstance(method_name, str) or not method_name:
                raise ValueError("a method name must be a non-empty string")
            if method_name in self.methods:
                raise ValueError(f"{self.name} already has a method {method_name!r}")
            self.methods[method_name] = fn
            if idempotent:
                self.idempotent.append(method_name)
            return fn
        if callable(name):
            return register(name)
        return lambda fn: register(fn, name)

    def on_start(self, fn: Callable[[Context], Any]) -> Callable[[Context], Any]:
        """Register ``fn(ctx)`` as the start routine; its return value is the start result."""
        self.start_handler = fn
        return fn

    def on_stop(self, fn: Callable[[Context], Any]) -> Callable[[Context], Any]:
        """Register ``fn(ctx)`` as the finalizer run by ``stop``."""
        self.stop_handler = fn
        return fn

    def describe(self) -> dict[str, Any]:
        """The photon object of the hello frame."""
        described = {"name": self.name, "kinds": self.kinds, "methods": list(self.methods),
                     "metadata": self.metadata}
        if self.idempotent:
            described["idempotent"] = list(self.idempotent)
        return described
