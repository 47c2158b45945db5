/// The invariants checked on every census while the run lasts; `check` returns the first broken one.
///
/// - no zombie: a child seen as a zombie in every census for 5 s (its exit was not reaped; on a
///   loaded machine a reap may wait for the CPU for a while, so the longest a zombie was seen is
///   reported, not judged);
/// - children bounded: at most two generations per photon file (a reload's old and new) and two more;
/// - descriptors bounded: at most twelve per photon file (two generations' pipes and pidfds) over
///   the baseline, and 32 more;
/// - resident memory not growing: after the warm-up, never above the warm-up's peak by more than
///   a quarter of it and 8 MiB.
struct Invariants {
    let photonFiles: Int
    let baselineDescriptors: Int
    let warmUp: Duration
    let began = ContinuousClock.now
    private(set) var warmPeakBytes = 0
    /// Each zombie child seen in every census since, with when it was first seen.
    private var zombiesSince: [Int32: ContinuousClock.Instant] = [:]
    /// The longest a child was seen as a zombie.
    private(set) var longestZombie = Duration.zero
    /// How long a zombie may be seen before the run breaks.
    static let zombieLimit = Duration.seconds(5)

    init(photonFiles: Int, warmUp: Duration) {
        self.photonFiles = photonFiles
        self.warmUp = warmUp
        baselineDescriptors = ProcessCensus.now().descriptors
    }

    var maxChildren: Int { 2 * photonFiles + 2 }
    var maxDescriptors: Int { baselineDescriptors + 12 * photonFiles + 32 }
    var warm: Bool { began.duration(to: .now) >= warmUp }
    var memoryLimit: Int { warmPeakBytes + warmPeakBytes / 4 + 8 << 20 }

    mutating func check(_ census: ProcessCensus) -> String? {
        let now = ContinuousClock.now
        zombiesSince = census.zombies.reduce(into: [:]) { since, pid in since[pid] = zombiesSince[pid] ?? now }
        longestZombie = max(longestZombie, zombiesSince.values.map { $0.duration(to: now) }.max() ?? .zero)
        if let (pid, since) = zombiesSince.first(where: { $0.value.duration(to: now) >= Self.zombieLimit }) {
            return "zombie: child \(pid) exited and was not reaped for \(since.duration(to: now)) (in every census since)"
        }
        if census.children.count > maxChildren {
            return "children: \(census.children.count) child processes, more than \(maxChildren) (pids \(census.children.sorted()))"
        }
        if census.descriptors > maxDescriptors {
            return "descriptors: \(census.descriptors) open, more than \(maxDescriptors) (baseline \(baselineDescriptors))"
        }
        if !warm {
            warmPeakBytes = max(warmPeakBytes, census.residentBytes)
        } else if census.residentBytes > memoryLimit {
            return "memory: resident \(census.residentBytes >> 20) MiB, above the warm-up peak \(warmPeakBytes >> 20) MiB by more than a quarter and 8 MiB"
        }
        return nil
    }
}
