// The layers below the library are part of its API: a host that imports Luminal uses their
// public types (LoaderError, PhotonFile, RestartPolicy, ExitStatus, JSONValue, …) as the
// library's own.
@_exported import LuminalSystem
@_exported import LuminalWire
@_exported import LuminalWorker
