/// Lets one reload or unload at a time work on a photon file; others wait their turn.
///
/// Actor-isolated state of the `Loader`: `enter` suspends while any of the paths is held.
struct FileGate {
    private var held: Set<String> = []
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// True while any of `paths` is held.
    func isHeld(_ paths: Set<String>) -> Bool {
        !held.isDisjoint(with: paths)
    }

    mutating func hold(_ paths: Set<String>) {
        held.formUnion(paths)
    }

    mutating func wait(_ continuation: CheckedContinuation<Void, Never>) {
        waiting.append(continuation)
    }

    /// Releases `paths` and wakes every waiter to check again.
    mutating func leave(_ paths: Set<String>) {
        held.subtract(paths)
        let woken = waiting
        waiting = []
        woken.forEach { $0.resume() }
    }
}

extension Loader {
    /// Waits until none of `paths` is held by another reload or unload, then holds them.
    func enterGate(_ paths: Set<String>) async {
        while gate.isHeld(paths) {
            await withCheckedContinuation { gate.wait($0) }
        }
        gate.hold(paths)
    }
}
