public import Logging
import Synchronization

/// Collects what a logger emits, for asserting on a service's logs.
public final class LogRecorder: Sendable {
    private let entries = Mutex<[String]>([])

    /// Every line so far: level, message and sorted metadata.
    public var lines: [String] { entries.withLock { $0 } }

    /// A recorder with nothing recorded yet.
    public init() {}

    /// A logger whose every line this recorder keeps.
    public func logger(_ label: String) -> Logger {
        Logger(label: label) { _ in Handler(recorder: self) }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            recorder.entries.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
        }
    }
}
