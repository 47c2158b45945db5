#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Testing

extension ChaosCase {
    /// The reliability list, in its order, with the outcome PROTOCOL.md (§6–§8) promises and Sources/Luminal/ARCHITECTURE.md (§2.4, §4) describes for each.
    static let all: [ChaosCase] = [
        ChaosCase("crashes at start", mode: "crash-on-start") { victim in
            let handler = try await victim.load(start: false)
            let error = try await #require(throws: LoaderError.self) { try await handler.start() }
            #expect(error.code == .workerExited)
            #expect(endingSignal(error.exit) == SIGABRT)
            #expect(endingSignal(try await victim.crashed().exit) == SIGABRT)
            #expect(handler.state == .crashed(error.exit!))
        },
        ChaosCase("crashes mid-handshake", mode: "crash-mid-handshake") { victim in
            // A worker that exits, even mid-frame, has simply exited: its exit is what is reported.
            let error = try await victim.loadError()
            #expect(error.code == .exitedBeforeHello)
            #expect(endingSignal(error.exit) == SIGABRT)
        },
        ChaosCase("never says hello", mode: "no-hello", manifest: #""timeouts": {"handshake": 0.3}"#) { victim in
            let error = try await victim.loadError()
            #expect(error.code == .handshakeTimeout)
            #expect(error.message.contains("did not say hello"))
        },
        ChaosCase("speaks the wrong protocol version", mode: "wrong-version") { victim in
            let error = try await victim.loadError()
            #expect(error.code == .protocolMismatch)
            #expect(error.message.contains("version 99"))
        },
        ChaosCase("writes garbage bytes on fd 4") { victim in
            // A terminal escape sequence and text in a frame: valid UTF-8, not JSON.
            try await victim.breakProtocol(hex: "0000000a" + "1b5b33316d6f6f707321", reason: "invalid JSON")
        },
        ChaosCase("sends a frame longer than the cap") { victim in
            // One byte over the default 16 MiB cap: refused from the length alone.
            try await victim.breakProtocol(hex: "01000001", reason: "oversize frame")
        },
        ChaosCase("sends a length prefix then EOF") { victim in
            try await victim.breakProtocol(hex: "00000010" + "7b22", close: true, reason: "truncated frame")
        },
        ChaosCase("sends invalid UTF-8") { victim in
            // {"type":"<0xff>"}
            try await victim.breakProtocol(hex: "0000000c" + "7b2274797065223a22ff227d", reason: "invalid UTF-8")
        },
        ChaosCase("replies to an unknown id") { victim in
            // {"type":"result","id":999,"value":0}
            try await victim.breakProtocol(hex: "00000024" + "7b2274797065223a22726573756c74222c226964223a3939392c2276616c7565223a307d",
                                           reason: "unknown reply id")
        },
        ChaosCase("closes fd 4 but keeps running") { victim in
            try await victim.breakProtocol(hex: "", close: true, reason: "closed protocol pipe")
        },
        ChaosCase("floods stdout") { victim in
            let handler = try await victim.load()
            let total = 16 * 1024 * 1024
            async let flooded = handler.call("flood", params: ["bytes": .int(Int64(total))], timeout: .seconds(600))
            for round in 0..<5 {
                #expect(try await victim.bystander.call("echo", params: .int(Int64(round))) == .int(Int64(round)))
            }
            #expect(try await flooded == .int(Int64(total)))
            #expect(try await handler.call("echo", params: "after") == "after")
            #expect(try await victim.loader.unloadPhoton(handler).ending == .clean)
        },
        ChaosCase("ignores SIGTERM", mode: "ignore-term", manifest: #""timeouts": {"kill": 0.2}"#) { victim in
            let handler = try await victim.load(start: false)
            let outcome = try await victim.loader.unloadPhoton(handler, forceStop: true)
            #expect(outcome.ending == .killed)
            #expect(outcome.exit == .signaled(signal: SIGKILL, coreDumped: false))
            _ = try await victim.events.first("killed event") { [path = victim.path] event in
                if case .killed(path, _, _) = event { return true }
                return nil
            }
        },
        ChaosCase("hangs in its finalizer", mode: "slow-stop", manifest: #""timeouts": {"stop": 0.3, "kill": 0.3}"#) { victim in
            let handler = try await victim.load()
            let outcome = try await victim.loader.unloadPhoton(handler)
            #expect(outcome.ending == .terminated)
            #expect(outcome.finalizerErrors["victim"]?.contains("did not answer stop") == true)
        },
        ChaosCase("forks and setsids a grandchild") { victim in
            let handler = try await victim.load()
            let daemon = pid_t(try #require(try await handler.call("spawn-daemon").intValue))
            #expect(isAlive(daemon))
            #expect(try await victim.loader.unloadPhoton(handler).ending == .clean)
            #expect(!exists(daemon))
        },
        ChaosCase("crashes, leaving a setsid grandchild") { victim in
            // The crashed generation's tree goes with it, whether or not it is ever restarted.
            let handler = try await victim.load()
            let orphan = pid_t(try #require(try await handler.call("spawn-child", params: ["setsid": true]).intValue))
            #expect(isAlive(orphan))
            _ = try? await handler.call("crash")
            #expect(endingSignal(try await victim.crashed().exit) == SIGABRT)
            try await waitUntil("the crashed worker's grandchild killed") { !exists(orphan) }
            #expect(await victim.loader.photons["victim"] === handler)
        },
        ChaosCase("starts a setsid child without the marker, then is unloaded") { victim in
            // The child is re-parented to the supervisor when the worker exits on shutdown.
            let handler = try await victim.load()
            let hidden = pid_t(try #require(try await handler.call("spawn-child", params: ["setsid": true, "unmarked": true]).intValue))
            #expect(isAlive(hidden))
            #expect(try await victim.loader.unloadPhoton(handler).ending == .clean)
            #expect(!exists(hidden))
        },
        ChaosCase("starts a setsid child without the marker, then crashes") { victim in
            let handler = try await victim.load()
            let hidden = pid_t(try #require(try await handler.call("spawn-child", params: ["setsid": true, "unmarked": true]).intValue))
            #expect(isAlive(hidden))
            _ = try? await handler.call("crash")
            #expect(endingSignal(try await victim.crashed().exit) == SIGABRT)
            try await waitUntil("the crashed worker's hidden child killed") { !exists(hidden) }
        },
        ChaosCase("exits 0 at once", mode: "exit-zero") { victim in
            let error = try await victim.loadError()
            #expect(error.code == .exitedBeforeHello)
            #expect(error.exit == .exited(code: 0))
        },
        ChaosCase("spins at 100% CPU in a call") { victim in
            // Busy is not hung: the call times out, pings are still answered, and it unloads.
            let handler = try await victim.load()
            let error = try await #require(throws: LoaderError.self) { try await handler.call("spin", timeout: .milliseconds(200)) }
            #expect(error.code == .timeout)
            #expect(try await victim.bystander.call("echo", params: 1) == 1)
            let worker = handler.servingWorker
            #expect(try await worker.send(.ping, timeout: testDeadline) == .null)
            #expect(handler.state == .started)
            let outcome = try await victim.loader.unloadPhoton(handler)
            // The finalizer runs on the thread that took over reading from the spinning one; on a
            // loaded machine the stop timeout may pass first and SIGTERM end it: either way unforced.
            #expect(outcome.ending == .clean || outcome.ending == .terminated)
        },
        ChaosCase("spins at 100% CPU, its reader included", mode: "spin",
                  manifest: #""health": {"interval": 0.05, "timeout": 0.5}"#) { victim in
            let handler = try await victim.load(start: false)
            let pid = handler.pid
            let failure = try await victim.events.first("failed event") { [path = victim.path] event in
                if case .failed(path, let failure, _, nil) = event { return failure }
                return nil
            }
            #expect(failure == .healthCheckTimeout)
            guard case .faulted(let reason) = handler.state else { Issue.record("state is \(handler.state)"); return }
            #expect(reason.contains("heartbeats"))
            try await waitUntil("the spinning worker killed") { !exists(pid) }
        },
        ChaosCase("allocates until killed") { victim in
            // The photon caps its own address space 128 MiB above its size, so only it runs short.
            // Its runtime ends it: by SIGABRT, or a sanitizer's runtime by an exit code.
            let handler = try await victim.load()
            let error = try await #require(throws: LoaderError.self) { try await handler.call("hog", params: ["limitMiB": 128]) }
            #expect(error.code == .workerExited)
            #expect(error.exit.map { !$0.isSuccess } == true)
            #expect(try await victim.crashed().exit == error.exit)
            #expect(handler.state == .crashed(error.exit!))
        },
    ]
}
