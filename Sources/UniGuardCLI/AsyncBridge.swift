import Foundation
import Runtime

/// Runs async work from a synchronous `ParsableCommand.run()` and waits for it. The entry point
/// (`runExecutable`) calls `run()` synchronously on the main thread, outside any concurrency context; the
/// work runs on the cooperative pool while this thread blocks, so nothing waits on itself.
enum AsyncBridge {
    static func wait(_ work: @escaping @Sendable () async throws -> Void) throws {
        let outcome = Guarded<Result<Void, Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { try await work(); outcome.value = .success(()) } catch { outcome.value = .failure(error) }
            done.signal()
        }
        done.wait()
        try outcome.value!.get()
    }
}
