#if canImport(Glibc)
import Glibc
#endif

// The soak test run by Scripts/torture:
//   luminal-torture --chaos CHAOS_PHOTON --folder EMPTY_FOLDER --minutes N [--seed S] [--photons K]
// Mixes calls, reloads, crashes, protocol faults, unloads and loads at random from a seed it
// prints, checks the invariants (Invariants.swift) the whole time, and stops at the first broken
// one with the seed that replays the same draws.
var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else {
        say("usage: luminal-torture --chaos CHAOS_PHOTON --folder EMPTY_FOLDER --minutes N [--seed S] [--photons K]")
        exit(64)
    }
    options[String(flag.dropFirst(2))] = value
}
guard let chaos = options["chaos"], let folder = options["folder"], let minutes = options["minutes"].flatMap(Double.init), minutes > 0 else {
    say("usage: luminal-torture --chaos CHAOS_PHOTON --folder EMPTY_FOLDER --minutes N [--seed S] [--photons K]")
    exit(64)
}
let seed = options["seed"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
let photons = options["photons"].flatMap { Int($0) } ?? 6
let run = TortureRun(chaos: chaos, folder: folder, seed: seed, photons: photons, duration: .milliseconds(Int64(minutes * 60_000)))
exit(await run.run() ? 0 : 1)
