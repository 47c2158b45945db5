import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalDaemon
import Synchronization

/// `luminal run`'s answer to SIGTERM and SIGINT: the first stops every photon gracefully and
/// exits 0; a second kills every worker at once, and the stop finishes straight away.
final class Shutdown: Sendable {
    private let sources: [SignalSource]

    /// How many stop signals arrived.
    private final class Count: Sendable {
        let value = Atomic(0)
    }

    /// A dispatch signal source, which the type system cannot see is safe to share once activated.
    private struct SignalSource: @unchecked Sendable {
        let source: any DispatchSourceSignal
    }

    init(loader: Loader, control: ControlServer, notifier: SystemdNotifier?) {
        let received = Count()
        // Not the main queue: the main thread only waits (RunCommand.parkMainThread).
        let queue = DispatchQueue(label: "luminal.shutdown")
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { @Sendable in
                let name = number == SIGINT ? "SIGINT" : "SIGTERM"
                let count = received.value.add(1, ordering: .relaxed).newValue
                guard count == 1 else {
                    Console.error("luminal: \(name) again: killing every worker now")
                    loader.killAllWorkers()
                    return
                }
                Console.error("luminal: \(name): stopping every photon (again to kill them at once)")
                notifier?.notify(["STOPPING=1", "STATUS=stopping every photon"])
                control.close()
                Task {
                    await loader.stopWatchingPhotons()
                    await loader.unloadAll()
                    loader.releaseStateFile()
                    loader.flushLog()
                    exit(0)
                }
            }
            source.activate()
            return SignalSource(source: source)
        }
    }
}
