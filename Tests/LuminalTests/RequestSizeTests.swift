@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor.WorkerBounds {
    /// A call whose frame the worker could not read (over the frame cap it was given) is refused
    /// with a clear error, and the worker, which never saw it, carries on.
    @Test func aCallLargerThanTheFrameCapIsRefusedAndTheWorkerCarriesOn() async throws {
        var configuration = LoaderConfiguration.fast
        configuration.frameCap = 4096
        try await withLoader(configuration: configuration) { loader, folder in
            let handler = try #require(try await loader.loadPhoton(at: folder.chaos("small")).first)
            try await handler.start()
            let pid = handler.pid
            let refused = await outcome { () async throws(LoaderError) in
                try await handler.call("echo", params: .string(String(repeating: "x", count: 10_000)))
            }
            guard case .failure(let error) = refused else {
                Issue.record("expected a refusal, got \(refused)")
                return
            }
            #expect(error.code == .requestTooLarge)
            #expect(error.message.contains("small") && error.message.contains("4096"), "\(error.message)")
            #expect(try await handler.call("echo", params: "still here") == "still here")
            #expect(handler.pid == pid && handler.state == .started)
        }
    }
}
