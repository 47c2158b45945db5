import LuminalWire

/// The optional protocol features a worker's hello declared that the host uses
/// (PROTOCOL.md §3.3); a worker that declared none is sent nothing version 1 did not define.
struct WorkerFeatures: Sendable {
    /// The worker reads `cancel`: each call the host gives up on after writing it is cancelled.
    var cancel = false
    /// The worker reads a call's `deadline_ms`: calls with a timeout carry it.
    var deadline = false
    /// The worker's photons call host functions and it reads the replies.
    var hostCalls = false
    /// The worker streams calls that ask for it (`stream`, `credit`, `part`).
    var streams = false

    /// None: a worker before its hello, or one that declared none.
    init() {}

    /// What `hello` declared; names the host does not know are ignored.
    init(_ hello: Hello) {
        cancel = hello.supports(.cancel)
        deadline = hello.supports(.deadline)
        hostCalls = hello.supports(.hostCalls)
        streams = hello.supports(.streams)
    }
}
