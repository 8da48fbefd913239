import Foundation

/// Peak memory of `dock client seed` in a child process: the CLI's bulk path, measured as the OS sees it.
enum SeedMemory {
    /// The `dock` executable built next to this benchmark (same build folder), if any.
    static func dockExecutable() -> URL? {
        let own = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let dock = own.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("dock")
        return FileManager.default.isExecutableFile(atPath: dock.path) ? dock : nil
    }

    /// Runs `dock install client` then `dock client seed --count <count>` on a new file and returns
    /// the largest child's peak resident set size in bytes (`getrusage(RUSAGE_CHILDREN)`).
    static func peakResidentBytes(dock: URL, database: String, count: Int) throws -> Int {
        try run(dock, ["install", "client", "--database", database])
        try run(dock, ["client", "seed", "--count", String(count), "--database", database])
        var usage = rusage()
        #if os(Linux)
        let children = __rusage_who_t(RUSAGE_CHILDREN.rawValue)  // Glibc imports the constant as an enum
        #else
        let children = RUSAGE_CHILDREN
        #endif
        guard getrusage(children, &usage) == 0 else {
            throw BenchmarkError(message: "getrusage failed (errno \(errno))")
        }
        // Linux reports ru_maxrss in KiB (macOS in bytes).
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024
        #else
        return Int(usage.ru_maxrss)
        #endif
    }

    /// Runs `executable` to completion, its stderr (progress) passed through, its stdout discarded.
    private static func run(_ executable: URL, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw BenchmarkError(message: "`dock \(arguments.joined(separator: " "))` failed (status \(process.terminationStatus))")
        }
    }
}
