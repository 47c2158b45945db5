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
    /// How many instances there are: a file of one is routed without looking at its calls in flight.
    private let size = Atomic<Int>(1)
    /// The file's first instance: what the file reports as a whole (its reload failure, its
    /// reload and rollback counts, its containment) is read from it.
    package let first: FileCore

    /// A pool of `first` alone.
    init(_ first: FileCore) {
        self.first = first
        members = Mutex([first])
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
    func route(_ photon: String, method: String, excluding excluded: FileCore? = nil) -> (core: FileCore, worker: Worker)? {
        if count == 1 {
            guard first !== excluded, case .success(let worker) = first.read({ $0.callTarget(photon, method: method) }) else { return nil }
            return (first, worker)
        }
        var best: (core: FileCore, worker: Worker, load: Int, chosen: UInt64)?
        for core in cores where core !== excluded {
            guard case .success(let worker) = core.read({ $0.callTarget(photon, method: method) }) else { continue }
            let load = worker.callsInFlight
            let chosen = core.lastChosen.load(ordering: .relaxed)
            if let current = best, current.load < load || (current.load == load && current.chosen <= chosen) { continue }
            best = (core, worker, load, chosen)
        }
        guard let best else { return nil }
        best.core.lastChosen.store(tickets.wrappingAdd(1, ordering: .relaxed).newValue, ordering: .relaxed)
        return (best.core, best.worker)
    }

    /// The connections of every instance's generations that have not ended.
    var liveConnections: [Worker] {
        cores.flatMap { $0.read(\.liveConnections) }
    }
}
