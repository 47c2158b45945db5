import LuminalWorker

extension Loader {
    /// How many instances `file` runs, and how many a reload replaces at a time: its manifest's
    /// `instances`, else the loader's (brought within bounds).
    func poolSize(for file: PhotonFile) -> PoolSize {
        if let size = file.instances { return size }
        let configured = context.configuration.instances
        let count = min(max(configured.count, 1), PoolSize.limit)
        let most = min(max(configured.max, count), PoolSize.limit)
        return PoolSize(count: count, max: most, surge: min(max(configured.surge, 1), most),
                        linger: min(max(configured.linger, .seconds(1)), .seconds(86_400)))
    }

    /// A new lifecycle for instance `number` of `file` (in `pool`, from the second on), restarted
    /// on its own when its worker ends.
    func makeInstance(_ number: Int, of file: PhotonFile, in pool: InstancePool? = nil) -> FileCore {
        let core = FileCore(path: file.path, instance: number, sharingWith: pool?.first, policy: restartPolicy(for: file), context: context)
        core.onRestartDue { [weak self] in await self?.restart(file.path, instance: number) }
        context.track(core)
        return core
    }
}
