import LuminalSystem
import LuminalWorker

extension Loader {
    /// Sets how `record`'s pool scales (its manifest's, or the loader's, `instances`), and starts
    /// the sampler that shrinks pools when one scales and none runs.
    func superviseScaling(of record: LoadedFile) {
        let size = poolSize(for: record.file)
        let path = record.file.path
        guard size.scales else {
            record.pool.scale(upTo: size.max, asking: nil)
            return
        }
        record.pool.scale(upTo: size.max) { [weak self] in
            Task { await self?.scaleUp(path) }
        }
        guard scaler == nil else { return }
        scaler = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard let self, await self.shrinkSpares() else { return }
            }
        }
    }

    /// One look: stops one instance of each pool that scales and had an instance to spare for its
    /// linger, above its fewest. False, and the sampler ends, once no loaded file's pool scales.
    func shrinkSpares() -> Bool {
        var scaling = false
        for record in records.loaded {
            let size = poolSize(for: record.file)
            guard size.scales else { continue }
            scaling = true
            guard !isHeld(record.file.path) else { continue }
            if record.pool.count > size.count, record.pool.sparedFor >= size.linger {
                record.pool.restartLinger()
                Task { await self.scaleDown(record.file.path) }
            }
        }
        if !scaling { scaler = nil }
        return scaling
    }

    /// Brings one more instance of the photon file at `path` up, from the manifest its instances
    /// run, when a call found every instance busy; it takes calls once its photons are started
    /// as the first instance's are. A failure is logged and emitted (`scaleFailed`), and the pool
    /// asks again only after `scaleUpHold`.
    func scaleUp(_ path: String) async {
        guard let pool = records[path].loaded?.pool else { return }
        await enterGate([path])
        defer { gate.leave([path]) }
        guard let record = records[path].loaded, record.pool === pool, !isHeld(path), pool.count < poolSize(for: record.file).max else {
            pool.grown()
            return
        }
        let number = (pool.cores.map(\.instance).max() ?? 0) + 1
        let core = makeInstance(number, of: record.file, in: pool)
        scalingUp[path] = core
        defer { scalingUp[path] = nil }
        let clock = ContinuousClock()
        let began = clock.now
        do throws(GenerationFailure) {
            let worker = try await bringUpInstance(core, of: record)
            pool.add(core)
            superviseHealth(of: worker)
            pool.grown()
            let after = began.duration(to: clock.now)
            context.log(.info, "scaled \(path) up to \(pool.count) instances: calls found every instance busy (instance \(number), pid \(worker.pid), serving after \(after))", file: path)
            context.events.emit(.scaled(file: path, instances: pool.count, instance: number, pid: worker.pid, reason: "calls found every instance busy"))
        } catch {
            core.discard()
            guard scalingUp[path] === core else {
                // Given up by a stop or an unload: not the file's failure, nor a reason to hold off.
                context.log(.info, "scaling \(path) up to \(pool.count + 1) instances was given up: the file is being stopped or unloaded", file: path)
                pool.grown()
                return
            }
            context.log(.warning, "scaling \(path) up to \(pool.count + 1) instances failed at step '\(error.step.rawValue)': \(error.error.message) (asked again in \(Self.scaleUpHold) at the soonest)", file: path)
            context.events.emit(.scaleFailed(file: path, instances: pool.count + 1, step: error.step, retryIn: Self.scaleUpHold, error: error.error))
            // Held off outside the gate: a stop or a reload meanwhile does not wait for it.
            pool.grown(holdingFor: Self.scaleUpHold)
        }
    }

    /// How long a pool whose scaling up failed waits before it may ask again: a version whose new
    /// instances cannot start must not spawn one for every call.
    static let scaleUpHold = Duration.seconds(10)

    /// Spawns, validates and starts a generation of `record`'s file in the new instance `core`
    /// (not in the pool yet), and makes it serve.
    private func bringUpInstance(_ core: FileCore, of record: LoadedFile) async throws(GenerationFailure) -> Worker {
        let ready = try await readyFile(record.file, checksum: record.handlers.first?.checksum)
        let prepared = try await prepare(ready, selection: record.selection, core: core)
        let names = prepared.photons.map(\.name)
        if let mismatch = InstanceMismatch.check(prepared.photons, of: core.instance, against: record.pool.servedPhotons, file: record.file.path) {
            await abandon(prepared.worker, of: core, graceful: false)
            throw mismatch
        }
        let toStart = record.core.read { $0.photonsToStart(among: names) }
        try await startPhotons(toStart, of: prepared, in: core)
        core.apply(.serving(number: prepared.worker.generation, photons: prepared.photons, started: toStart, checksum: ready.checksum,
                            policy: restartPolicy(for: record.file), restart: false, at: .now, random: .random(in: 0...1)))
        return prepared.worker
    }

    /// Stops an instance of the photon file at `path` (never the first), which was to spare for
    /// its pool's linger: the last of those crashed or quarantined, else the last; it takes no more
    /// calls, finishes those it has, and stops.
    func scaleDown(_ path: String) async {
        await enterGate([path])
        defer { gate.leave([path]) }
        let size = records[path].loaded.map { poolSize(for: $0.file) }
        guard let record = records[path].loaded, let size, record.pool.count > size.count, !isHeld(path) else { return }
        let others = record.pool.cores.dropFirst()
        guard let last = others.last(where: { $0.read(\.allFinal) }) ?? others.last else { return }
        record.pool.remove(last)
        let pid = last.read { $0.serving?.pid }
        context.log(.info, "scaled \(path) down to \(record.pool.count) instance\(record.pool.count == 1 ? "" : "s"): instance \(last.instance)\(pid.map { ", pid \($0)," } ?? "") was to spare for \(size.linger)", file: path)
        context.events.emit(.scaled(file: path, instances: record.pool.count, instance: last.instance, pid: pid, reason: "an instance was to spare for \(size.linger)"))
        await Self.stopInstance(last, because: "it was to spare for \(size.linger)", timeouts: stopTimeouts(for: record.file), context: context)
        Self.keepListening(record.sockets, of: path, context: context)
    }
}
