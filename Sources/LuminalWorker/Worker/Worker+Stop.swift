#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWire

/// How a worker's stop went.
package struct WorkerStopReport: Sendable {
    /// Which step ended it.
    package var ending: UnloadOutcome.Ending
    /// Its exit status, once reaped.
    package var exit: ExitStatus?
    /// Finalizers that failed or timed out: photon name → reason.
    package var finalizerErrors: [String: String]

    package init(ending: UnloadOutcome.Ending, exit: ExitStatus? = nil, finalizerErrors: [String: String]) {
        self.ending = ending
        self.exit = exit
        self.finalizerErrors = finalizerErrors
    }
}

extension Worker {
    /// Stops the worker and its whole process tree.
    ///
    /// Graceful: run the finalizers of `started` photons, send `shutdown` and close fd 3, wait up to
    /// the stop timeout in all; then SIGTERM to the tree, then SIGKILL after the kill timeout.
    /// Forced: SIGTERM to the tree at once, then SIGKILL after the kill timeout.
    package func stop(graceful: Bool, started: [String], timeouts: StopTimeouts) async -> WorkerStopReport {
        stopHeartbeat()
        let alreadyOver = state.withLock { state -> Bool in
            state.exited || state.fault != nil || state.givenUp
        }
        if alreadyOver {
            writer.close()
            _ = await tree.terminate(first: SIGKILL, grace: timeouts.kill)
            return WorkerStopReport(ending: .alreadyEnded, exit: await reaped(within: timeouts.kill), finalizerErrors: [:])
        }
        var report = WorkerStopReport(ending: .terminated, finalizerErrors: [:])
        if file.plain != nil {
            // A plain executable's graceful stop is its stop signal; SIGKILL after the kill timeout.
            let gentle = await tree.terminate(first: graceful ? file.stopSignal : SIGTERM, grace: timeouts.kill)
            report.ending = gentle ? (graceful ? .clean : .terminated) : .killed
            report.exit = await reaped(within: timeouts.kill)
            return report
        }
        if graceful {
            let deadline = ContinuousClock.now + timeouts.stop
            for photon in started {
                do throws(LoaderError) {
                    _ = try await send(.stop(photon: photon), timeout: ContinuousClock.now.duration(to: deadline))
                } catch {
                    report.finalizerErrors[photon] = error.message
                }
            }
            writer.send(.shutdown)
            writer.finish()
            // Finalizers that used up the stop timeout leave no time to wait for a clean exit:
            // the stop signal follows at once, whether or not the shutdown is already under way.
            let left = ContinuousClock.now.duration(to: deadline)
            if left > .zero, let exit = await process.waitForExit(timeout: left) {
                // A signal from elsewhere (say, the operator's second Ctrl-C) is no clean exit.
                report.ending = if case .signaled(let signal, _) = exit { signal == SIGKILL ? .killed : .terminated } else { .clean }
                // Descendants the worker left behind still go.
                _ = await tree.terminate(first: file.stopSignal, grace: timeouts.kill)
                report.exit = await reaped(within: timeouts.kill)
                return report
            }
        }
        // fd 3 stays open until the signal has landed, so a forced stop ends by SIGTERM, not by EOF.
        let gentle = await tree.terminate(first: file.stopSignal, grace: timeouts.kill)
        writer.close()
        report.ending = gentle ? .terminated : .killed
        report.exit = await reaped(within: timeouts.kill)
        return report
    }

    /// Waits for the calls in flight to be answered, up to `timeout`; the calls still waiting
    /// then are cancelled (`cancelCalls`), as their worker is being `purpose` ("unloaded",
    /// "replaced").
    package func drainOrCancel(timeout: Duration, _ purpose: String) async {
        guard await !drain(timeout: timeout) else { return }
        cancelCalls(because: "its worker was being \(purpose) and the drain timeout of \(timeout) passed")
    }

    /// Waits until no request is in flight, or `timeout`; false if requests were still running.
    private func drain(timeout: Duration) async -> Bool {
        await awaitCallback(timeout: timeout) { (deliver: @escaping @Sendable (Bool) -> Void) in
            let idle = state.withLock { state -> Bool in
                if state.pending.isEmpty { return true }
                state.idleWaiters.append { deliver(true) }
                return false
            }
            if idle { deliver(true) }
        } ?? false
    }

    /// The exit status once the pidfd watcher has reaped the worker, which the tree's SIGKILL
    /// has ended by then: nil if that takes longer than `timeout` (the kill timeout).
    private func reaped(within timeout: Duration) async -> ExitStatus? {
        if let status = process.exitStatus { return status }
        return await process.waitForExit(timeout: timeout)
    }
}

/// The two stop timeouts.
package struct StopTimeouts: Sendable {
    /// Finalizers plus shutdown, before SIGTERM.
    package var stop: Duration
    /// After SIGTERM, before SIGKILL.
    package var kill: Duration

    package init(stop: Duration, kill: Duration) {
        self.stop = stop
        self.kill = kill
    }
}
