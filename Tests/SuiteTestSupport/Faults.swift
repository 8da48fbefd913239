import Foundation
public import SuiteStorage

/// Runs a shell command line to completion and returns its exit status and output (stdout and
/// stderr together). For the fault tests' set-up: mounting filesystems, stopping a server.
@discardableResult
public func shell(_ command: String) throws -> (status: Int32, output: String) {
    // posix_spawn and waitpid rather than Foundation's Process, whose wait did not return once the
    // command had started a server (the server keeps what it inherited); output goes to a file.
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("clientsuite-shell-\(UUID().uuidString).log").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    let line = "( \(command) ) </dev/null >'\(file)' 2>&1"
    var pid: pid_t = 0
    let words: [String] = ["/bin/sh", "-c", line]
    let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { arguments.forEach { free($0) } }
    let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, arguments, environ)
    guard spawned == 0 else { throw FaultSetupError(what: command, output: "posix_spawn failed: \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (exitStatus, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
}

/// A small tmpfs of its own, for the SQLite fault tests: full disks and read-only mounts.
/// Mounting needs root (the test script runs as root, or through sudo); without it the test fails
/// and says so, like a missing PostgreSQL server.
public final class SmallFilesystem: Sendable {
    public let path: String

    /// Mounts a tmpfs of `kilobytes` at a new folder.
    public init(kilobytes: Int) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("clientsuite-fs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Self.asRoot("mount -t tmpfs -o size=\(kilobytes)k tmpfs '\(path)'")
    }

    /// Remounts the filesystem read-only, or writable again.
    public func remount(readOnly: Bool) throws {
        try Self.asRoot("mount -o remount,\(readOnly ? "ro" : "rw") '\(path)'")
    }

    /// Unmounts and removes the folder.
    public func remove() {
        _ = try? Self.asRoot("umount '\(path)'")
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func asRoot(_ command: String) throws {
        let prefix = getuid() == 0 ? "" : "sudo -n "
        let result = try shell(prefix + command)
        guard result.status == 0 else { throw FaultSetupError(what: command, output: result.output) }
    }
}

/// A PostgreSQL server the test may stop and start: a cluster of its own, so that stopping it
/// does not disturb tests running at the same time. `scripts/test.sh` starts it and sets
/// `CLIENTSUITE_TEST_FAULT_POSTGRES_URL`, `…_STOP` (a `pg_ctl -m immediate stop` command line) and
/// `…_START`.
public struct RestartableServer: Sendable {
    public let url: String
    private let stopCommand: String
    private let startCommand: String

    public init() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["CLIENTSUITE_TEST_FAULT_POSTGRES_URL"], !url.isEmpty,
              let stop = environment["CLIENTSUITE_TEST_FAULT_POSTGRES_STOP"], !stop.isEmpty,
              let start = environment["CLIENTSUITE_TEST_FAULT_POSTGRES_START"], !start.isEmpty
        else {
            throw FaultSetupError(what: "CLIENTSUITE_TEST_FAULT_POSTGRES_URL, _STOP and _START are not set",
                                  output: "run the tests with scripts/test.sh, which starts a server the fault tests may stop")
        }
        self.url = url
        stopCommand = stop
        startCommand = start
    }

    /// Stops the server at once, as a crash would (`pg_ctl -m immediate`).
    public func crash() throws {
        let result = try shell(stopCommand)
        guard result.status == 0 else { throw FaultSetupError(what: "stopping PostgreSQL", output: result.output) }
    }

    /// Starts it again and waits until it accepts connections.
    public func start() throws {
        let result = try shell(startCommand)
        guard result.status == 0 else { throw FaultSetupError(what: "starting PostgreSQL", output: result.output) }
    }
}

public struct FaultSetupError: Error, CustomStringConvertible {
    public var what: String
    public var output: String
    public init(what: String, output: String) {
        self.what = what
        self.output = output
    }

    public var description: String { "fault test set-up failed: \(what): \(output)" }
}

/// A transaction kept open — holding SQLite's write lock, or a pooled PostgreSQL connection — until
/// ``finish()``, as another process would hold it.
///
/// Its body blocks the thread it runs on until the test lets go. A SQLite write runs its body on
/// the calling task's thread (group commit), so the transaction is opened from a task that runs on
/// a thread of its own (``DedicatedThreadExecutor``): blocking one of the few threads that run
/// tasks could leave none to let go.
public final class HeldTransaction: Sendable {
    private let release = AsyncStream<Void>.makeStream()
    private let task: Task<Void, any Error>

    /// Opens a transaction on `database` (a write unless `writing` is false), runs `statement` in
    /// it, and returns once the statement has run.
    public init(on database: any Database, writing: Bool = true, _ statement: SQL) async {
        let held = AsyncStream<Void>.makeStream()
        let release = release.stream
        task = Task(executorPreference: DedicatedThreadExecutor()) {
            defer { held.continuation.finish() }
            let body: @Sendable (any Transaction) throws -> Void = { tx in
                try tx.execute(statement)
                held.continuation.yield()
                // The transaction's own thread waits (no async in here) until the test lets go.
                let semaphore = DispatchSemaphore(value: 0)
                Task { for await _ in release { break }; semaphore.signal() }
                semaphore.wait()
            }
            if writing { try await database.write(body) } else { try await database.read(body) }
        }
        for await _ in held.stream { break }
    }

    /// Ends the transaction (it commits) and waits for it.
    public func finish() async throws {
        release.continuation.yield()
        try await task.value
    }
}

/// Runs the jobs of the tasks that prefer it on a serial dispatch queue of its own, off the
/// threads that run every other task: for test bodies that must block their thread.
public final class DedicatedThreadExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "clientsuite.test.dedicated")

    /// A new executor with its own queue.
    public init() {}

    /// Runs `job` on the queue.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
