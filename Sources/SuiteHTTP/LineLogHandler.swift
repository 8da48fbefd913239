public import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler that writes one logfmt line per event to a file descriptor (standard error
/// by default, as swift-log's own default handler), for a server that logs every request:
///
/// ```
/// 2026-12-05T03:38:09.123Z info clientsuite.http: method=POST ms=0.412 path=/v1/licences/verify request_id=… status=200 [SuiteHTTP] request
/// ```
///
/// The line has swift-log's `StreamLogHandler` layout (time, level, label, metadata sorted by key,
/// source, message), at a fraction of its cost per line, measured in docs/benchmarks.md:
/// - the time is UTC to the millisecond, formatted from `gmtime_r` (no time zone file is read);
/// - the line is built in one byte buffer;
/// - a value with a space, `"`, `=`, `\` or a control character is quoted and escaped, so that a
///   line is always one line and its fields always parse;
/// - each line is one `write(2)`, with no stdio lock between the threads that log.
public struct LineLogHandler: LogHandler {
    /// The lowest level written.
    public var logLevel: Logger.Level = .info
    /// Metadata added to every line.
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let descriptor: Int32

    /// A handler for the logger `label`, writing to `descriptor` (standard error by default).
    public init(label: String, descriptor: Int32 = STDERR_FILENO) {
        self.label = label
        self.descriptor = descriptor
    }

    /// One key of ``metadata``.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes `event` as one line (the logger has already checked its level).
    public func log(event: LogEvent) {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        Self.appendTime(to: &line)
        line.append(0x20)
        line.append(contentsOf: event.level.rawValue.utf8)
        if !label.isEmpty {
            line.append(0x20)
            line.append(contentsOf: label.utf8)
        }
        line.append(0x3A)  // :
        var fields = metadata
        if let explicit = event.metadata { fields.merge(explicit) { _, new in new } }
        if let error = event.error { fields["error.message"] = "\(error)" }
        for key in fields.keys.sorted() {
            line.append(0x20)
            Self.append(key, to: &line)
            line.append(0x3D)  // =
            Self.append(fields[key]!.description, to: &line)
        }
        line.append(contentsOf: " [".utf8)
        line.append(contentsOf: event.source.utf8)
        line.append(contentsOf: "] ".utf8)
        Self.append(event.message.description, to: &line, quoting: false)
        line.append(0x0A)
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { return }
            }
        }
    }

    /// `text`, quoted and escaped when it holds a space, `"`, `=`, `\` or a control character
    /// (with `quoting` false, a message: only control characters are escaped, unquoted).
    static func append(_ text: String, to line: inout [UInt8], quoting: Bool = true) {
        let utf8 = text.utf8
        let plain = !utf8.isEmpty && utf8.allSatisfy { $0 >= 0x21 && $0 != 0x22 && $0 != 0x3D && $0 != 0x5C && $0 != 0x7F }
        if plain || (!quoting && utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F })) {
            line.append(contentsOf: utf8)
            return
        }
        if quoting { line.append(0x22) }
        for byte in utf8 {
            switch byte {
            case 0x22 where quoting: line.append(contentsOf: [0x5C, 0x22])
            case 0x5C where quoting: line.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: line.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: line.append(contentsOf: [0x5C, 0x72])
            case 0x09: line.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                line.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: line.append(byte)
            }
        }
        if quoting { line.append(0x22) }
    }

    /// Now, as `2026-12-05T03:38:09.123Z`.
    static func appendTime(to line: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                line.append(UInt8(truncatingIfNeeded: 0x30 + rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4); line.append(0x2D)
        digits(Int(parts.tm_mon) + 1, 2); line.append(0x2D)
        digits(Int(parts.tm_mday), 2); line.append(0x54)
        digits(Int(parts.tm_hour), 2); line.append(0x3A)
        digits(Int(parts.tm_min), 2); line.append(0x3A)
        digits(Int(parts.tm_sec), 2); line.append(0x2E)
        digits(Int(now.tv_nsec) / 1_000_000, 3); line.append(0x5A)
    }
}
