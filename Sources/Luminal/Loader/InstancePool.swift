import LuminalSystem
import LuminalWorker
import Synchronization

/// The instances of one loaded photon file (`PoolSize`): a `FileCore` each, the first one for
/// as long as the file is loaded, shared by the file's record and its handlers. A call goes to
/// the instance `route` chooses.
package final class InstancePool: Sendable {
    /// The instances, first one first.
    private let members: Mutex<[FileCore]>
    /// Counts the choices made, to tell which instance was chosen longest ago.
    private let tickets = Atomic<UInt64>(0)
    /// How many instances there are: a file of one that does not scale is routed without looking
    /// at its calls in flight.
    private let size = Atomic<Int>(1)
    /// The most instances the pool may have (`PoolSize.max`).
    private let ceiling = Atomic<Int>(1)
    /// What asks for one more instance (`Loader.scaleUp`), and whether it was asked and has not
    /// answered yet (`grown`).
    private let growth = Mutex<(ask: (@Sendable () -> Void)?, asking: Bool, heldUntil: UInt64)>((nil, false, 0))
    /// When a call last needed every instance (`Uptime`): one more call in flight than instances
    /// are started. A pool that scales stops an instance once this is its linger ago.
    private let lastNeeded = Atomic<UInt64>(Uptime.now())
    /// The file's first instance: what the file reports as a whole (its reload failure, its
    /// reload and rollback counts, its containment) is read from it.
    package let first: FileCore

    /// A pool of `first` alone.
    init(_ first: FileCore) {
        self.first = first
        members = Mutex([first])
        first.join(self)
    }

    /// The instances now, first one first.
    package var cores: [FileCore] {
        members.withLock { $0 }
    }

    /// How many instances there are now.
    package var count: Int {
        size.load(ordering: .relaxed)
    }

    /// Adds `core`, in instance order.
    func add(_ core: FileCore) {
        core.join(self)
        members.withLock { cores in
            cores.append(core)
            cores.sort { $0.instance < $1.instance }
            size.store(cores.count, ordering: .relaxed)
        }
    }

    /// Takes `core` out: calls no longer go to it.
    func remove(_ core: FileCore) {
        members.withLock { cores in
            cores.removeAll { $0 === core }
            size.store(cores.count, ordering: .relaxed)
        }
    }

    /// The worker a call of `method` to `photon` goes to, with its instance: of the instances
    /// where the photon is started (none still coming up, being replaced or stopped), the one with
    /// the fewest calls in flight; of those with as many, the one chosen longest ago. nil when no
    /// instance other than `excluded` can take it.
    ///
    /// A pool that may grow asks for one more instance when the call finds every instance busy
    /// (the one it goes to has a call in flight already).
    func route(_ photon: String, method: String, excluding excluded: FileCore? = nil) -> (core: FileCore, worker: Worker)? {
        if count == 1 && ceiling.load(ordering: .relaxed) == 1 {
            guard first !== excluded, case .success(let worker) = first.read({ $0.callTarget(photon, method: method) }) else { return nil }
            return (first, worker)
        }
        var best: (core: FileCore, worker: Worker, load: Int, chosen: UInt64)?
        var started = 0, inFlight = 0
        for core in cores where core !== excluded {
            guard case .success(let worker) = core.read({ $0.callTarget(photon, method: method) }) else { continue }
            let load = worker.callsInFlight
            started += 1
            inFlight += load
            let chosen = core.lastChosen.load(ordering: .relaxed)
            if let current = best, current.load < load || (current.load == load && current.chosen <= chosen) { continue }
            best = (core, worker, load, chosen)
        }
        guard let best else { return nil }
        best.core.lastChosen.store(tickets.wrappingAdd(1, ordering: .relaxed).newValue, ordering: .relaxed)
        best.core.routedCalls.add(1, ordering: .relaxed)
        if inFlight + 1 >= started { lastNeeded.store(Uptime.now(), ordering: .relaxed) }
        if best.load > 0 && count < ceiling.load(ordering: .relaxed) { askForMore() }
        return (best.core, best.worker)
    }

    /// Sets the most instances the pool may have, and what asks for one more (nil: it does not
    /// scale).
    func scale(upTo most: Int, asking ask: (@Sendable () -> Void)?) {
        ceiling.store(most, ordering: .relaxed)
        growth.withLock { $0.ask = ask }
    }

    /// Asks for one more instance, unless an ask is being answered.
    private func askForMore() {
        let now = Uptime.now()
        let ask = growth.withLock { growth -> (@Sendable () -> Void)? in
            guard !growth.asking, now >= growth.heldUntil, let ask = growth.ask else { return nil }
            growth.asking = true
            return ask
        }
        ask?()
    }

    /// The ask for one more instance was answered (it came, or it failed: then none is asked for
    /// `hold`): calls that find every instance busy ask again.
    func grown(holdingFor hold: Duration = .zero) {
        let now = Uptime.now()
        lastNeeded.store(now, ordering: .relaxed)
        growth.withLock { growth in
            growth.asking = false
            growth.heldUntil = Uptime.after(hold, from: now)
        }
    }

    /// The linger starts again from now (an instance was just stopped).
    func restartLinger() {
        lastNeeded.store(Uptime.now(), ordering: .relaxed)
    }

    /// How long since a call last needed every instance.
    var sparedFor: Duration {
        .nanoseconds(Int64(clamping: Uptime.now() - lastNeeded.load(ordering: .relaxed)))
    }

    /// The instance that reports `photon` (its state, pid and generation): the first one where it
    /// is started, else the first.
    func reporter(of photon: String) -> FileCore {
        guard count > 1, first.read({ $0.photons[photon]?.state }) != .started else { return first }
        return cores.first { $0.read { $0.photons[photon]?.state } == .started } ?? first
    }

    /// The photons the pool serves, as the first instance's serving generation declared them.
    var servedPhotons: [PhotonDescriptor] {
        first.read { lifecycle in lifecycle.members.compactMap { lifecycle.photons[$0]?.descriptor } }
    }

    /// The connections of every instance's generations that have not ended.
    var liveConnections: [Worker] {
        cores.flatMap { $0.read(\.liveConnections) }
    }
}
