import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalDaemon
import Synchronization

/// How `luminal run` stops: on SIGTERM or SIGINT (exit 0), or when an essential photon file cannot
/// be kept running (exit 6). In this order: `/readyz` answers 503, the control socket stops taking
/// new clients, the requests its clients sent are answered (within `LoaderConfiguration.drainTimeout`
/// of the signal, those queued behind another on a connection too), the workers drain what is
/// still in flight and stop, then the control clients are let go. A stop signal
/// once the stop has begun kills every worker at once, and the stop finishes straight away.
final class Shutdown: Sendable {
    /// The signal sources, kept for the life of the process.
    private let sources = Mutex<[SignalSource]>([])
    private let loader: Loader
    private let control: ControlServer
    private let metrics: MetricsServer?
    private let notifier: SystemdNotifier?
    /// Set by the stop that begins; any later one only kills.
    private let begun = Atomic(false)

    /// A dispatch signal source, which the type system cannot see is safe to share once activated.
    private struct SignalSource: @unchecked Sendable {
        let source: any DispatchSourceSignal
    }

    init(loader: Loader, control: ControlServer, metrics: MetricsServer?, notifier: SystemdNotifier?) {
        self.loader = loader
        self.control = control
        self.metrics = metrics
        self.notifier = notifier
        // Not the main queue: the main thread only waits (RunCommand.parkMainThread).
        let queue = DispatchQueue(label: "luminal.shutdown")
        sources.withLock { sources in
            sources = [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { @Sendable [self] in
                    let name = number == SIGINT ? "SIGINT" : "SIGTERM"
                    guard stop(because: "\(name): stopping every photon (again to kill them at once)",
                               readiness: "\(name): luminal is stopping", exitCode: .success) else {
                        Console.error("luminal: \(name) again: killing every worker now")
                        loader.killAllWorkers()
                        return
                    }
                }
                source.activate()
                return SignalSource(source: source)
            }
        }
    }

    /// Stops everything in order and exits with `exitCode`, after logging `why`; false (and
    /// nothing done) when a stop has begun already.
    @discardableResult
    func stop(because why: String, readiness: String, exitCode: ExitCode) -> Bool {
        guard begun.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return false }
        // First of all: an orchestrator's next probe takes this instance out of service.
        metrics?.setNotReady(readiness)
        Console.error("luminal: \(why)")
        notifier?.notify(["STOPPING=1", "STATUS=stopping every photon"])
        control.stopListening()
        let loader = loader, control = control
        Task {
            await loader.stopWatchingPhotons()
            await control.drain(within: loader.configuration.drainTimeout)
            await loader.unloadAll()
            control.close()
            loader.releaseStateFile()
            loader.flushLog()
            exit(exitCode.rawValue)
        }
        return true
    }
}
