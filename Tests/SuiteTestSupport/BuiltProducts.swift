import Foundation

/// How a built product's run ended, and what it printed.
public struct ProductRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// An executable product (`dock`, the examples) built beside the running test bundle.
public func builtProduct(_ name: String) -> URL {
    // Test bundles live beside the products they were built with.
    let products = Bundle.main.bundleURL.lastPathComponent.hasSuffix(".xctest")
        ? Bundle.main.bundleURL.deletingLastPathComponent() : Bundle.main.bundleURL
    return products.appendingPathComponent(name)
}

/// Runs the built product `name` to completion, as a user would, capturing its output.
/// - Parameter environment: the child's whole environment; nil inherits this process's.
public func runProduct(_ name: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProductRun {
    let process = Process()
    process.executableURL = builtProduct(name)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting so a large output cannot fill the pipe and block the child.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProductRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
}
