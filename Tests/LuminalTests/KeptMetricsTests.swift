@testable import Luminal
import LuminalSystem
import Testing

/// What a scrape keeps of each photon's and file's samples (`MetricsExposition`): after every
/// kind of change, the kept families are exactly what a scrape with nothing kept writes.
@Suite struct KeptMetricsRule {
    /// The kept families of the next scrape, checked against those of a scrape that keeps nothing.
    private func keptFamilies(_ loader: Loader) async throws -> Exposition {
        let kept = await loader.metricsExposition()
        let fresh = MetricsExposition().text(of: await loader.metricsListing(), context: loader.context)
        #expect(kept.count == 2 && fresh.count == 2)
        #expect(kept.first.map { String(decoding: $0, as: UTF8.self) } == fresh.first.map { String(decoding: $0, as: UTF8.self) })
        return try Exposition(String(decoding: kept.joined(), as: UTF8.self))
    }

    @Test func keptSamplesFollowCallsRestartsStopsAndUnloads() async throws {
        var configuration = LoaderConfiguration.fast
        configuration.processFiguresPeriod = .seconds(3600)
        try await withLoader(configuration: configuration) { loader, folder in
            let alphaPath = folder.chaos("alpha")
            folder.chaos("beta")
            let handlers = try await loader.loadPhotons(in: folder.path)
            for handler in handlers { try await handler.start() }
            let alpha = try #require(handlers.first { $0.name == "alpha" })
            let beta = try #require(handlers.first { $0.name == "beta" })
            let one = ["photon": "alpha"]
            #expect(try await keptFamilies(loader).value("luminal_call_duration_seconds_count", one) == 0)

            #expect(try await alpha.call("echo", params: 1) == 1)
            var scraped = try await keptFamilies(loader)
            #expect(scraped.value("luminal_call_duration_seconds_count", one) == 1)
            #expect(scraped.value("luminal_calls_total", one.merging(["outcome": "ok"]) { $1 }) == 1)
            #expect(try await keptFamilies(loader).value("luminal_call_duration_seconds_count", one) == 1)

            _ = try? await alpha.call("crash")
            try await waitUntil("alpha restarted") { alpha.generation == 2 && alpha.state == .started }
            scraped = try await keptFamilies(loader)
            #expect(scraped.value("luminal_photon_generation", one) == 2 && scraped.value("luminal_photon_restarts_total", one) == 1)

            _ = try await loader.stopPhoton("beta")
            scraped = try await keptFamilies(loader)
            #expect(scraped.value("luminal_photon_up", ["photon": "beta"]) == 0)
            #expect(scraped.value("luminal_photon_uptime_seconds", ["photon": "beta"]) == nil)

            _ = try await loader.unloadPhoton(beta)
            scraped = try await keptFamilies(loader)
            #expect(scraped.value("luminal_photon_up", ["photon": "beta"]) == nil && scraped.value("luminal_photons") == 1)
            #expect(scraped.value("luminal_file_processes", ["file": alphaPath]) != nil)

            let gamma = try #require(try await loader.loadPhoton(at: folder.chaos("gamma")).first)
            try await gamma.start()
            scraped = try await keptFamilies(loader)
            #expect(scraped.value("luminal_photon_up", ["photon": "gamma"]) == 1 && scraped.value("luminal_photons") == 2)
        }
    }
}
