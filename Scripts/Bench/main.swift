#if canImport(Glibc)
import Glibc
#endif

// The measurements behind Scripts/bench, each printing one JSON line (release builds):
//   luminal-bench calls PHOTON METHOD ROUNDTRIPS PIPELINED WINDOW   call round trip and pipelined throughput
//   luminal-bench spawn PHOTON RUNS                 load until hello validated, beside bare spawn + exit
//   luminal-bench scale COUNT SECONDS VARIANTS      COUNT photons: load time, memory, idle CPU, unload time
//                                                   (VARIANTS: inotify,inotify-no-heartbeat,polling)
//   luminal-bench memory COUNT                      COUNT photons loaded, the memory, then exit with them
//                                                   loaded (for heaptrack: what they hold is what leaks)
//   luminal-bench reload PHOTON_FILE RUNS           last write → new generation serving (watchPhotons)
//   luminal-bench reload-under-load PHOTON RELOADS CALLERS   calls lost during atomic reloads
//   luminal-bench cancel PHOTON RUNS                cancel → method observes it; a spinning method stops
//   luminal-bench crash-retry PHOTON CRASHES CALLERS   calls failed while an idempotent method's worker is killed
//   luminal-bench spawn-limits PHOTON RUNS          spawn → hello bare, in a cgroup, and with limits and a user
//   luminal-bench recycle-leak PHOTON SECONDS CALLERS   a photon leaking 10 MiB/s recycled at 100 MiB under calls
//   luminal-bench metrics-calls PHOTON METHOD ROUNDTRIPS PIPELINED WINDOW ROUNDS
//                                                   the call figures scraped each second and not, alternating
//   luminal-bench metrics-scrape COUNT SCRAPES SECONDS   GET /metrics with COUNT photons; CPU at one scrape a second
//   luminal-bench log-files COUNT RATE SECONDS      COUNT photons × RATE lines/s into rotating files: lost, split, CPU
//   luminal-bench sigterm PHOTON CALLS MS RUNS      `luminal run` sent SIGTERM with CALLS calls of MS ms in flight:
//                                                   signal → first /readyz 503, calls failed
//   luminal-bench callbacks CHAOS ROUNDS            photon → host function and photon → photon round trips,
//                                                   beside host → photon
//   luminal-bench stream CHAOS COUNT BYTES WINDOW SLOW_SECONDS   COUNT parts of BYTES streamed: rate, memory;
//                                                   then a consumer taking a part every 10 ms
//   luminal-bench held-socket SERVICE RELOADS RESTARTS   a plain HTTP service on a held socket reloaded under a
//                                                   client: connections refused; beside it on its own port
//   luminal-bench pools RUNTIME CHAOS CPU_CALLS MIXED_CALLS ROLLS   a CPU-bound Python method on 1 and 2
//                                                   instances; short calls among long ones on a pool of 4,
//                                                   alone and round-robin; rolling reloads of 8 under 16 callers
let arguments = Array(CommandLine.arguments.dropFirst())
func number(_ index: Int) -> Int {
    guard let value = Int(arguments[index]), value > 0 else { fail("'\(arguments[index])' is not a positive count") }
    return value
}
switch (arguments.first, arguments.count) {
case ("calls", 6):
    await CallLatency.run(photon: arguments[1], method: arguments[2], roundTrips: number(3), pipelined: number(4), window: number(5))
case ("spawn", 3):
    await SpawnToReady.run(photon: arguments[1], runs: number(2))
case ("scale", 4):
    let variants = arguments[3].split(separator: ",").map { name -> Scale.Variant in
        guard let variant = Scale.Variant(rawValue: String(name)) else {
            fail("unknown variant '\(name)' (\(Scale.Variant.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return variant
    }
    await Scale.run(count: number(1), seconds: number(2), variants: variants)
case ("memory", 2):
    await Scale.holdForProfile(count: number(1))
case ("reload", 3):
    await ReloadLatency.run(photon: arguments[1], runs: number(2))
case ("reload-under-load", 4):
    await ReloadUnderLoad.run(photon: arguments[1], reloads: number(2), callers: number(3))
case ("cancel", 3):
    await CancelLatency.run(photon: arguments[1], runs: number(2))
case ("crash-retry", 4):
    await CrashRetry.run(photon: arguments[1], crashes: number(2), callers: number(3))
case ("spawn-limits", 3):
    await SpawnLimits.run(photon: arguments[1], runs: number(2))
case ("recycle-leak", 4):
    await RecycleLeak.run(photon: arguments[1], seconds: number(2), callers: number(3))
case ("metrics-calls", 7):
    await MetricsCost.calls(photon: arguments[1], method: arguments[2], roundTrips: number(3), pipelined: number(4), window: number(5), rounds: number(6))
case ("metrics-scrape", 4):
    await MetricsCost.scrape(photons: number(1), scrapes: number(2), seconds: number(3))
case ("log-files", 4):
    await LogFileLoad.run(photons: number(1), rate: number(2), seconds: number(3))
case ("sigterm", 5):
    await SigtermDrain.run(photon: arguments[1], calls: number(2), milliseconds: number(3), runs: number(4))
case ("stream", 6):
    await StreamFlow.run(chaos: arguments[1], count: number(2), bytes: number(3), window: number(4), slowSeconds: number(5))
case ("held-socket", 4):
    await HeldSocketReload.run(service: arguments[1], reloads: number(2), restarts: number(3))
case ("pools", 6):
    await Pools.run(runtime: arguments[1], chaos: arguments[2], cpuCalls: number(3), mixedCalls: number(4), rolls: number(5))
case ("callbacks", 3):
    await Callbacks.run(chaos: arguments[1], rounds: number(2))
default:
    fail("usage: luminal-bench calls PHOTON METHOD ROUNDTRIPS PIPELINED WINDOW | spawn PHOTON RUNS | scale COUNT SECONDS VARIANTS | memory COUNT | reload PHOTON_FILE RUNS | reload-under-load PHOTON RELOADS CALLERS | cancel PHOTON RUNS | crash-retry PHOTON CRASHES CALLERS | spawn-limits PHOTON RUNS | recycle-leak PHOTON SECONDS CALLERS | metrics-calls PHOTON METHOD ROUNDTRIPS PIPELINED WINDOW ROUNDS | metrics-scrape COUNT SCRAPES SECONDS | log-files COUNT RATE SECONDS | sigterm PHOTON CALLS MS RUNS | callbacks CHAOS ROUNDS | held-socket SERVICE RELOADS RESTARTS | pools RUNTIME CHAOS CPU_CALLS MIXED_CALLS ROLLS | stream CHAOS COUNT BYTES WINDOW SLOW_SECONDS")
}
