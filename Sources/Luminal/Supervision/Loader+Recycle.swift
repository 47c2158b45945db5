#if canImport(Glibc)
import Glibc
#endif
import LuminalWorker

extension Loader {
    /// The recycle policy of a photon file: its manifest's, or the loader's.
    func recyclePolicy(for file: PhotonFile) -> RecyclePolicy {
        file.recycle ?? context.configuration.recycle
    }

    /// Starts the recycle sampler when a loaded file has an active recycle policy and none runs:
    /// every `interval` (the shortest of the policies') it looks at each such file's serving
    /// generation, and it stops by itself once no loaded file has a policy.
    func superviseRecycling() {
        let intervals = records.loaded.map { recyclePolicy(for: $0.file) }.filter(\.isActive).map(\.interval)
        guard recycler == nil, let interval = intervals.min() else { return }
        recycler = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, await self.recycleDue() else { return }
            }
        }
    }

    /// One look: starts the recycling of each file whose serving generation its policy says is
    /// due and whose last failed recycling's backoff is over (of a pool, the instance serving
    /// longest of those due: one instance of a file is recycled at a time, each in its turn).
    /// False, and the sampler ends, once no loaded file has a policy.
    func recycleDue() -> Bool {
        var watched = false
        let now = ContinuousClock.now
        for record in records.loaded {
            let policy = recyclePolicy(for: record.file)
            guard policy.isActive else { continue }
            watched = true
            let path = record.file.path
            guard !recycling.contains(path) else { continue }
            // Of a pool, the instance serving longest of those due: each gets its turn.
            let due = record.pool.cores.compactMap { core -> (FileCore, Worker, ContinuousClock.Instant?, RecycleReason)? in
                guard let (worker, since, heldUntil) = core.read({ lifecycle in
                          lifecycle.serving.map { ($0.connection, $0.servingSince, lifecycle.recycleHeldUntil) }
                      }),
                      heldUntil.map({ now >= $0 }) ?? true,
                      let reason = Self.recycleReason(policy, worker: worker, servingSince: since, now: now) else { return nil }
                return (core, worker, since, reason)
            }
            guard let (core, worker, _, reason) = due.min(by: { ($0.2 ?? now) < ($1.2 ?? now) }) else { continue }
            recycling.insert(path)
            core.apply(.recycling(number: worker.generation, reason: reason))
            Task { await self.recycle(path, instance: record.pool.count > 1 ? core : nil, generation: worker.generation) }
        }
        if !watched { recycler = nil }
        return watched
    }

    /// Why `worker` is due for recycling under `policy`, if it is.
    static func recycleReason(_ policy: RecyclePolicy, worker: Worker, servingSince: ContinuousClock.Instant?,
                              now: ContinuousClock.Instant) -> RecycleReason? {
        if let limit = policy.calls {
            let count = worker.answeredCalls.load(ordering: .relaxed)
            if count >= limit { return .calls(count: count, limit: limit) }
        }
        if let limit = policy.age, let servingSince, servingSince.duration(to: now) >= limit {
            return .age(servingSince.duration(to: now), limit: limit)
        }
        if let limit = policy.memoryBytes {
            let bytes = Int64(worker.tree.usage().residentBytes)
            if bytes > limit { return .memory(bytes: bytes, limit: limit) }
        }
        return nil
    }

    /// Replaces the file's worker (generation `generation`; of a pool, `instance`'s, from the
    /// version the pool runs) through the atomic reload; a failed one leaves the old serving, and
    /// its lifecycle holds the next attempt back by the restart policy's backoff.
    private func recycle(_ path: String, instance: FileCore?, generation: Int) async {
        do {
            _ = try await reload([path], instance: instance?.instance)
        } catch {
            guard let core = instance ?? records[path].loaded?.core else { return }
            core.apply(.recycleFailed(number: generation, error: error, at: .now, random: .random(in: 0...1)))
        }
        recycling.remove(path)
    }
}
