import LuminalWorker

/// Who made a host call (PROTOCOL.md §3.4), as a host function is told: the calling photon, its
/// file and worker, and the chain of photon-to-photon calls it is part of.
public struct HostCaller: Sendable {
    /// The photon that called.
    public let photon: String
    /// Its photon file.
    public var file: String { photonFile.path }
    /// The worker process it runs in, and that worker's generation.
    public let pid: Int32
    /// 1 for the file's first worker, +1 for each new one.
    public let generation: Int
    /// The photons whose calls led to this one, outermost first, ending with `photon`: the
    /// photons waiting, through the host, on the request `photon` is serving. `[photon]` for a
    /// host call made within a call of the host's own, or outside any request.
    public let chain: [String]
    /// How much longer the request the photon is serving is awaited by its caller; nil when it
    /// is awaited without limit, or the host call was made outside any request. A host function
    /// that runs past it is answered `cancelled` for it, as its task is cancelled.
    public let timeout: Duration?
    /// The photon file as loaded (its manifest's `config` and `may_call`).
    let photonFile: PhotonFile

    init(_ request: HostRequest) {
        photon = request.photon
        pid = request.pid
        generation = request.generation
        chain = request.chain
        timeout = request.timeout
        photonFile = request.file
    }
}
