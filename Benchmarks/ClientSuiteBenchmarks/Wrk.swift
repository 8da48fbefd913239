import Foundation

/// wrk (Debian's `wrk` package), the HTTP load generator of the HTTP figures: keep-alive
/// connections, a fixed number of threads and connections, a fixed duration, `--latency` for the
/// percentiles. Each request is described by a Lua script written into the run's workspace.
struct Wrk {
    let executable: URL
    let threads: Int
    let connections: Int
    let directory: URL

    /// The wrk on the PATH; nil when it is missing.
    init?(threads: Int, connections: Int, directory: URL) {
        guard let executable = ChildProcess.onPath("wrk") else { return nil }
        self.executable = executable
        self.threads = threads
        self.connections = connections
        self.directory = directory
    }

    /// A POST with a fixed JSON body and fixed headers, the same bytes for every request.
    struct Post {
        var body: String
        var headers: [(name: String, value: String)]
        /// When set, each request gets a fresh `Idempotency-Key`: this prefix, wrk's thread number
        /// and the thread's request counter (`<prefix>-<thread>-<n>`).
        var idempotencyKeyPrefix: String?
    }

    /// Runs wrk against `url` for `seconds`, sending `post`; returns what it printed, parsed.
    func run(_ post: Post, url: String, seconds: Int) async throws -> WrkResult {
        let script = directory.appendingPathComponent("wrk-\(UUID().uuidString).lua")
        try Self.script(for: post).write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let output = try await ChildProcess.run(executable, [
            "--threads", String(threads), "--connections", String(connections), "--duration", "\(seconds)s",
            "--latency", "--script", script.path, url,
        ], timeLimit: .seconds(seconds + 60))
        return try WrkResult(output: output)
    }

    /// The Lua script for `post`. wrk runs one Lua state per thread: `setup` (in the main state)
    /// numbers the threads, and `request` builds each request with that thread's next key.
    static func script(for post: Post) -> String {
        var lines = ["wrk.method = \"POST\"", "wrk.body = \(lua(post.body))"]
        lines += post.headers.map { "wrk.headers[\(lua($0.name))] = \(lua($0.value))" }
        if let prefix = post.idempotencyKeyPrefix {
            lines += [
                "local threads = 0",
                "function setup(thread)",
                "  threads = threads + 1",
                "  thread:set(\"thread_number\", threads)",
                "end",
                "local counter = 0",
                "function request()",
                "  counter = counter + 1",
                "  wrk.headers[\"Idempotency-Key\"] = \(lua(prefix + "-")) .. thread_number .. \"-\" .. counter",
                "  return wrk.format()",
                "end",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` as a double-quoted Lua string literal.
    private static func lua(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// What a wrk run printed (with `--latency`).
struct WrkResult {
    /// "Requests/sec:": completed requests over the run's duration.
    var requestsPerSecond: Double
    /// "N requests in …".
    var requests: Int
    /// The "Latency Distribution" percentiles, in seconds.
    var p50: Double
    var p99: Double
    /// "Non-2xx or 3xx responses:" (0 when wrk prints no such line).
    var failedResponses: Int
    /// "Socket errors:" connect + read + write + timeout (0 when wrk prints no such line).
    var socketErrors: Int

    init(output: String) throws {
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        func rest(after prefix: String) -> String? {
            lines.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
        }
        guard let rate = rest(after: "Requests/sec:").flatMap(Double.init) else {
            throw BenchmarkError(message: "no Requests/sec line in wrk's output: \(output.prefix(300))")
        }
        guard let p50 = rest(after: "50%").flatMap(Self.seconds), let p99 = rest(after: "99%").flatMap(Self.seconds) else {
            throw BenchmarkError(message: "no latency distribution (50%, 99%) in wrk's output")
        }
        requestsPerSecond = rate
        self.p50 = p50
        self.p99 = p99
        requests = lines.first { $0.contains(" requests in ") }.flatMap { line in Int(line.prefix(while: \.isNumber)) } ?? 0
        failedResponses = rest(after: "Non-2xx or 3xx responses:").flatMap { Int($0) } ?? 0
        // "Socket errors: connect 0, read 0, write 0, timeout 0"
        socketErrors = rest(after: "Socket errors:").map { text in
            text.split(separator: ",").compactMap { count in count.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
        } ?? 0
    }

    /// wrk's durations: `250.00us`, `1.25ms`, `2.00s`, `1.50m`.
    static func seconds(_ text: String) -> Double? {
        let number = text.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number) else { return nil }
        switch text.dropFirst(number.count) {
        case "us": return value / 1e6
        case "ms": return value / 1e3
        case "s": return value
        case "m": return value * 60
        case "h": return value * 3600
        default: return nil
        }
    }
}
