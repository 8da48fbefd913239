import Foundation

/// The command-line tools the benchmark drives (pgbench, psql, wrk), run to completion without
/// blocking a cooperative thread.
enum ChildProcess {
    /// Runs `tool` with `arguments` and returns its stdout. Throws with the last lines of its stderr
    /// when it exits with a failure; stops it (SIGTERM) after `timeLimit`. Output goes through
    /// files, so a chatty child can never fill a pipe and stall.
    static func run(_ tool: URL, _ arguments: [String], environment: [String: String]? = nil,
                    timeLimit: Duration = .seconds(900)) async throws -> String {
        let directory = FileManager.default.temporaryDirectory
        let out = directory.appendingPathComponent("clientsuite-bench-\(UUID().uuidString).out")
        let err = directory.appendingPathComponent("clientsuite-bench-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        // A stuck child must not hang the whole run: stop it after `timeLimit`.
        let started = ContinuousClock.now
        var watchdog = Task<Void, Never> {}
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try withSignalsUnblocked { try process.run() }
                let pid = process.processIdentifier
                watchdog = Task {
                    try? await Task.sleep(until: started + timeLimit)
                    if !Task.isCancelled { kill(pid, SIGTERM) }
                }
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        watchdog.cancel()
        let output = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let errors = ((try? String(contentsOf: err, encoding: .utf8)) ?? "").split(separator: "\n").suffix(5)
            throw BenchmarkError(message: "`\(tool.lastPathComponent) \(arguments.prefix(6).joined(separator: " "))…` "
                + "failed (status \(status)): \(errors.joined(separator: " / "))")
        }
        return output
    }

    /// The executable `name` on the PATH, or nil.
    static func onPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `body` (a spawn) with no signal blocked on this thread. A child inherits the spawning
    /// thread's signal mask, and the runtime's threads block nearly every signal: pgbench would never
    /// see the SIGALRM that ends a `-T` run (nor a SIGTERM).
    private static func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
        var none = sigset_t(), previous = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }
}
