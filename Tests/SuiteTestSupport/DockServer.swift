import Foundation

/// A running `dock serve --port 0` (the built binary, as a user runs it): its URL from the first
/// line it prints, and its output read to the end on threads of their own, so that neither pipe
/// fills and blocks the server.
///
/// ```swift
/// let server = try await DockServer.start(database: dock.location)
/// defer { server.terminateIfRunning() }
/// // … requests to server.url …
/// let (status, output, _) = await server.stop()   // SIGTERM: 0 and "ClientSuite stopped"
/// ```
public struct DockServer: Sendable {
    /// The process.
    public let process: Process
    /// `http://127.0.0.1:PORT`.
    public let url: String
    private let output: Task<String, Never>
    private let errors: Task<String, Never>
    private let exits: AsyncStream<Int32>

    /// Starts `dock serve` on `database` with `arguments` added, and waits for its URL. The child
    /// does not inherit `CLIENT_*` settings or `DOCK_DATABASE_URL`.
    public static func start(database: String, _ arguments: String...) async throws -> DockServer {
        let process = Process()
        process.executableURL = builtProduct("dock")
        process.arguments = ["serve", "--port", "0", "--database", database] + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CLIENT_") && $0.key != "DOCK_DATABASE_URL" }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let (exits, exited) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { exited.yield($0.terminationStatus); exited.finish() }
        try process.run()
        let reader = out.fileHandleForReading, errorReader = err.fileHandleForReading
        let errors = Task { await onOwnThread { String(decoding: errorReader.readDataToEndOfFile(), as: UTF8.self) } }
        let firstLine = await onOwnThread { () -> String in
            var text = ""
            while !text.contains("\n") {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text
        }
        let output = Task { firstLine + (await onOwnThread { String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) }) }
        guard let url = firstLine.split(separator: " ").first(where: { $0.hasPrefix("http://") }).map(String.init) else {
            if process.isRunning { process.terminate() }
            throw DockServerDidNotStart(output: firstLine + (await errors.value))
        }
        return DockServer(process: process, url: url, output: output, errors: errors, exits: exits)
    }

    /// Sends SIGTERM and waits for the exit status and everything the server printed.
    public func stop() async -> (status: Int32, output: String, errors: String) {
        if process.isRunning { process.terminate() }
        var iterator = exits.makeAsyncIterator()
        let status = await iterator.next() ?? process.terminationStatus
        return (status, await output.value, await errors.value)
    }

    /// For a test that fails early: the server must not outlive it.
    public func terminateIfRunning() {
        if process.isRunning { process.terminate() }
    }
}

/// `dock serve` printed no URL; its output says why.
public struct DockServerDidNotStart: Error, CustomStringConvertible {
    /// What the server printed.
    public var output: String
    /// The server's output.
    public var description: String { "dock serve did not start: \(output)" }
}

/// Runs blocking `work` (a pipe read) on a thread of its own, not on one of the few threads that run tasks.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}
