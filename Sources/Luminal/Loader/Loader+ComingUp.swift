extension Loader {
    /// Kills the workers still coming up for the photon files at `paths`, of a scale-up or of a
    /// reload (a stop, an unload or every photon's unload does not wait for their hello): each
    /// ends at once, given up, not failed.
    func abandonComingUp(of paths: Set<String>) {
        for (path, core) in scalingUp where paths.contains(path) {
            scalingUp[path] = nil
            core.read(\.liveConnections).forEach(context.killNow)
        }
        abandonBringUps(of: paths)
    }

    /// Kills the new workers each reload of the photon files at `paths` (a start after a stop's
    /// too) is waiting for (a stop or an unload does not wait for their hello): the reload ends
    /// at once, given up; the generations serving are left to the stop.
    private func abandonBringUps(of paths: Set<String>) {
        for path in paths {
            for core in bringingUp.removeValue(forKey: path) ?? [] {
                core.read { lifecycle in
                    lifecycle.generations.filter { !$0.hasEnded && $0.number != lifecycle.serving?.number }.map(\.connection)
                }.forEach(context.killNow)
            }
        }
    }
}
