@testable import Luminal
import LuminalSystem
import Testing

/// How often a scrape reads `/proc` for the photon files' process trees: a pass once a period,
/// a file's own trees at once when its workers change, and the age of the pass is exported.
@Suite struct ProcessFiguresRule {
    private func scrape(_ loader: Loader) async throws -> Exposition {
        try Exposition(await loader.metrics())
    }

    @Test func aPassIsServedForItsPeriodButAFileWhoseWorkersChangedIsReadAtOnce() async throws {
        var configuration = LoaderConfiguration.fast
        configuration.processFiguresPeriod = .seconds(3600)
        try await withLoader(configuration: configuration) { loader, folder in
            let path = folder.chaos("alpha")
            let alpha = try #require(try await loader.loadPhoton(at: path).first)
            try await alpha.start()
            let first = try await scrape(loader)
            #expect(first.value("luminal_process_figures_age_seconds") == 0)
            #expect(first.value("luminal_file_processes", ["file": path]) == 1)
            // A child started since is not seen until the next pass: the figures are the pass's.
            _ = try await alpha.call("spawn-child")
            let second = try await scrape(loader)
            #expect(try #require(second.value("luminal_process_figures_age_seconds")) > 0)
            #expect(second.value("luminal_file_processes", ["file": path]) == 1)
            // A reload puts a new worker in place: the next scrape reads that file's trees (the new
            // worker and the child it starts), not the old one's, and no other pass is made.
            _ = try await loader.reloadPhoton(alpha)
            #expect(alpha.generation == 2)
            _ = try await alpha.call("spawn-child")
            let betaPath = folder.chaos("beta")
            try await #require(try await loader.loadPhoton(at: betaPath).first).start()
            let third = try await scrape(loader)
            #expect(try #require(third.value("luminal_process_figures_age_seconds")) > 0)
            #expect(third.value("luminal_file_processes", ["file": path]) == 2)
            #expect(third.value("luminal_file_processes", ["file": betaPath]) == 1)
        }
    }

    @Test func aPeriodOfZeroServesAPassForTwoThousandTimesItsCost() async throws {
        var configuration = LoaderConfiguration.fast
        configuration.processFiguresPeriod = .zero
        try await withLoader(configuration: configuration) { loader, folder in
            let path = folder.chaos("alpha")
            try await #require(try await loader.loadPhoton(at: path).first).start()
            let first = try await scrape(loader)
            #expect(first.value("luminal_process_figures_age_seconds") == 0)
            // The pass took some CPU time: it is served for 2,000 times that, not read at every scrape.
            let period = try #require(first.value("luminal_process_figures_period_seconds"))
            #expect(period > 0)
            let second = try await scrape(loader)
            #expect(second.value("luminal_process_figures_period_seconds") == period)
            #expect(try #require(second.value("luminal_process_figures_age_seconds")) > 0)
        }
    }
}
