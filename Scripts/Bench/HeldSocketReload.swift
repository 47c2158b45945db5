#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalSystem
import LuminalTestKit
import LuminalWire

/// The example plain HTTP service (`SERVICE`/serve.py) on a held socket, reloaded `reloads` times
/// while one client opens a new connection without pause: the connections refused or reset (the
/// target is none), and each reload's time. The baseline, in the same run: the same service
/// binding its own port (no `sockets`), which a reload cannot replace (the new worker finds the
/// port taken, the reload rolls back) and which has to be stopped and started instead, `restarts`
/// times, under the same client: the connections refused then.
enum HeldSocketReload {
    static func run(service: String, reloads: Int, restarts: Int) async {
        let scratch = makeTemporaryFolder()
        defer { removeTree(scratch) }
        var report = Report("held-socket")
        report["reloads"] = .int(Int64(reloads))
        report["restarts"] = .int(Int64(restarts))

        let held = package(in: scratch, "held", service: service) { port in #""sockets": {"http": "tcp:127.0.0.1:\#(port)"}"# }
        let loader = Loader()
        let clock = ContinuousClock()
        var times: [Duration] = []
        let heldCounts = await underClient(port: held.port) {
            let handler = await startedPhoton(at: held.path, in: loader)
            for _ in 0..<reloads {
                let start = clock.now
                do { try await loader.reloadPhoton(handler) } catch { fail("reload of the held-socket service failed: \(error)") }
                times.append(start.duration(to: clock.now))
            }
        }
        report["held"] = heldCounts.json
        report.add("reload", Stats(times))
        await loader.unloadAll()

        let own = package(in: scratch, "own", service: service) { port in #""env": {"PORT": "\#(port)"}"# }
        var rolledBack = 0
        var refusal = ""
        let ownCounts = await underClient(port: own.port) {
            let handler = await startedPhoton(at: own.path, in: loader)
            for _ in 0..<min(reloads, 10) {
                do throws(LoaderError) {
                    try await loader.reloadPhoton(handler)
                } catch {
                    rolledBack += 1
                    refusal = error.message
                }
            }
            for _ in 0..<restarts {
                do {
                    _ = try await loader.stopPhoton("own")
                    _ = try await loader.startPhoton("own")
                } catch {
                    fail("stop and start of the service on its own port failed: \(error)")
                }
            }
        }
        await loader.unloadAll()
        report["own"] = ownCounts.json
        report["own_reloads"] = .int(Int64(min(reloads, 10)))
        report["own_rolled_back"] = .int(Int64(rolledBack))
        report["own_refusal"] = .string(refusal.contains("Address already in use") ? "Address already in use" : refusal)
        report.print()
    }

    /// A package of the service in `scratch`, on a free port, with `key` (given the port) in its manifest.
    private static func package(in scratch: String, _ name: String, service: String, key: (UInt16) -> String) -> (path: String, port: UInt16) {
        let path = scratch + "/" + name
        mkdir(path, 0o755)
        copyFile(service + "/serve.py", to: path + "/serve.py", mode: 0o755)
        let port: UInt16
        do { port = try SocketClient.freePort() } catch { fail("no free port: \(error)") }
        writeFile(path + "/photon.json", Array(#"{"protocol": "none", "exec": "serve.py", "name": "\#(name)", "ready": 0.2, \#(key(port))}"#.utf8), mode: 0o644)
        return (path, port)
    }

    /// Runs `body` while a client on its own thread GETs 127.0.0.1:`port` without pause, from
    /// the moment the port answers; returns what the client saw.
    private static func underClient(port: UInt16, _ body: () async -> Void) async -> ClientCounts {
        let running = Flag()
        async let seen = onThread { () -> ClientCounts in
            var counts = ClientCounts()
            // Until the service first answers, a refusal is its start, not a reload's.
            var answering = false
            while running.isSet {
                do {
                    _ = try SocketClient.get(.tcp(port: port), timeout: .seconds(10))
                    answering = true
                    counts.answered += 1
                } catch let failure as SocketClient.Failure {
                    if answering { counts.count(failure) }
                } catch {
                    counts.other += 1
                }
            }
            return counts
        }
        await body()
        running.clear()
        return await seen
    }

    /// `body`'s value, computed on a thread of its own (it blocks on sockets).
    private static func onThread<Value: Sendable>(_ body: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in startThread { continuation.resume(returning: body()) } }
    }
}

/// What a client saw: connections answered, refused, reset (or closed before an answer), other.
private struct ClientCounts: Sendable {
    var answered = 0, refused = 0, reset = 0, other = 0

    mutating func count(_ failure: SocketClient.Failure) {
        switch failure.errno {
        case ECONNREFUSED: refused += 1
        case ECONNRESET, EPIPE, EPROTO: reset += 1
        default: other += 1
        }
    }

    var json: JSONValue {
        ["answered": .int(Int64(answered)), "refused": .int(Int64(refused)), "reset": .int(Int64(reset)), "other": .int(Int64(other))]
    }
}
