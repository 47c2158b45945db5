import Glibc
import Luminal

// Benchmarks of watching and reloading, run by Scripts/bench-watch:
//   luminal-bench reload PHOTON_FILE RUNS      last write → new generation serving, beside spawn → hello
//   luminal-bench idle-watch COUNT SECONDS BACKEND   supervisor CPU while watching COUNT idle photon files
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "reload" where arguments.count == 3:
    await ReloadLatency.run(photon: arguments[1], runs: Int(arguments[2]) ?? 50)
case "idle-watch" where arguments.count == 4:
    await IdleWatch.run(count: Int(arguments[1]) ?? 1000, seconds: Int(arguments[2]) ?? 60, polling: arguments[3] == "polling")
default:
    print("usage: luminal-bench reload PHOTON_FILE RUNS | idle-watch COUNT SECONDS inotify|polling")
    exit(64)
}
