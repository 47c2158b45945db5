import LuminalWorker

extension Loader {
    /// How many instances `file` runs, and how many a reload replaces at a time: its manifest's
    /// `instances`, else the loader's (brought within bounds: the loader said so when it began).
    func poolSize(for file: PhotonFile) -> PoolSize {
        file.instances ?? context.configuration.instances.clamped
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
