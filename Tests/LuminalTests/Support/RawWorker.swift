import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker

/// A worker spawned without a loader, so that a test can send it frames no host would send.
/// Every wait is bounded by the test deadline; the worker is killed if the test ends early, and
/// reaped before the worker object goes (a zombie left behind would count in a later test's
/// census of children).
final class RawWorker {
    private let spawned: SpawnedProcess
    let process: ChildProcess
    private var decoder = FrameDecoder()
    /// Whether the worker's fd 3 was closed by `closeInput()`.
    private var inputClosed = false

    /// Spawns `executable` with the protocol pipes, in `folder`, and reads its hello.
    init(_ executable: String, _ arguments: [String] = [], in folder: String) throws {
        spawned = try Spawner.spawn(SpawnRequest(executable: executable, arguments: arguments,
                                                 environment: WorkerEnvironment.inherited(), workingDirectory: folder))
        process = ChildProcess(pid: spawned.pid, pidfd: spawned.pidfd, queue: DispatchQueue(label: "raw-worker"))
        guard try receive()["type"] == "hello" else { throw DeadlineExceeded(what: "hello as the first frame") }
    }

    deinit {
        process.signal(SIGKILL)
        if !inputClosed { closeQuietly(spawned.toWorker) }
        [spawned.fromWorker, spawned.stdout, spawned.stderr].forEach(closeQuietly)
        // Reaped on its own queue (never this thread's), as soon as the kill lands.
        let reaped = DispatchSemaphore(value: 0)
        process.onExit { _ in reaped.signal() }
        _ = reaped.wait(timeout: .now() + .seconds(Int(testDeadline.components.seconds)))
    }

    /// Writes `message` as one frame on the worker's fd 3.
    func send(_ message: JSONValue) {
        send(together: [message])
    }

    /// Writes `messages` as frames on the worker's fd 3 in one `write(2)` (if the pipe takes it
    /// whole), so that one read of the worker can take them all.
    func send(together messages: [JSONValue]) {
        send(bytes: messages.flatMap { Frame.encode($0) })
    }

    /// Writes `bytes` as they are on the worker's fd 3 (part of a frame, say).
    func send(bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(spawned.toWorker, $0.baseAddress! + offset, $0.count - offset) }
            guard n > 0 else { return }
            offset += n
        }
    }

    /// Closes the worker's fd 3: its end of file.
    func closeInput() {
        guard !inputClosed else { return }
        inputClosed = true
        closeQuietly(spawned.toWorker)
    }

    /// Sends a request and returns the reply (the worker answers one request at a time here).
    func request(_ message: JSONValue) throws -> [String: JSONValue] {
        send(message)
        return try receive()
    }

    /// The next frame the worker writes on fd 4, waiting for it up to the test deadline.
    func receive() throws -> [String: JSONValue] {
        let deadline = ContinuousClock.now + testDeadline
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let object = try decoder.nextObject() { return object }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw DeadlineExceeded(what: "frame from the worker") }
            var ready = pollfd(fd: spawned.fromWorker, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, Int32(min(left.components.seconds * 1000 + 1, 1000))) > 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { read(spawned.fromWorker, $0.baseAddress, $0.count) }
            guard n > 0 else { throw DeadlineExceeded(what: "frame before the worker closed fd 4") }
            decoder.append(Array(chunk.prefix(n)))
        }
    }
}
