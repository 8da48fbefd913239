public import SuiteCore

/// A failure in the storage layer. `description` is safe to show a user (no SQL, no values);
/// `debugDescription` carries the engine's own message for logs.
public struct StorageError: CodedError {
    /// What kind of failure. A struct rather than an enum so that new codes are not breaking.
    public struct Code: ErrorCode {
        /// The code's snake_case text, e.g. `unique_violation`.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }

        /// A UNIQUE constraint rejected the write.
        public static let uniqueViolation = Code("unique_violation")
        /// Another constraint (NOT NULL, CHECK, FOREIGN KEY) rejected the write.
        public static let constraintViolation = Code("constraint_violation")
        /// The engine could not serialise this transaction with a concurrent one; retrying may succeed.
        public static let conflict = Code("conflict")
        /// The database could not be opened or reached (a closed port, an unknown host, a server
        /// that went away, a file that is not a database). Nothing was written.
        public static let unavailable = Code("unavailable")
        /// The server refused the credentials (unknown role, wrong password). Nothing was written.
        public static let authentication = Code("authentication")
        /// The database is busy: SQLite's write lock was held by another connection past the busy
        /// timeout, or no pooled PostgreSQL connection became free in time. Nothing was written;
        /// retrying later may succeed.
        public static let busy = Code("busy")
        /// The file or its folder cannot be written. Nothing was written.
        public static let readOnly = Code("read_only")
        /// The disk is full. Nothing was written; the file stays consistent.
        public static let diskFull = Code("disk_full")
        /// The connection was lost after `COMMIT` was sent and before the server answered: the
        /// transaction may or may not have committed. Retry with the same idempotency key, which
        /// applies the operation exactly once either way; never report it as failed.
        public static let commitOutcomeUnknown = Code("commit_outcome_unknown")
        /// A row did not hold the type the code expected.
        public static let decoding = Code("decoding")
        /// The database URL or path is not usable.
        public static let invalidLocation = Code("invalid_location")
        /// Text held the NUL character (U+0000), which PostgreSQL cannot store: refused on every
        /// engine alike, before the statement runs. Nothing was written.
        public static let invalidText = Code("invalid_text")
        /// Any other engine error.
        public static let engine = Code("engine")
    }

    /// What went wrong.
    public var code: Code
    /// For constraint violations: the constraint or column text the engine reported
    /// (e.g. `client_clients.email_normalized`), so a module can map it to its own error.
    public var constraint: String?
    /// A short, safe explanation.
    public var message: String
    /// The engine's own text, for logs only.
    public var underlying: String?

    /// An error with `code`, a safe `message`, and optionally the constraint and the engine's text.
    public init(code: Code, message: String, constraint: String? = nil, underlying: String? = nil) {
        self.code = code
        self.message = message
        self.constraint = constraint
        self.underlying = underlying
    }


    /// The code, message, constraint and the engine's own text, for logs only.
    public var debugDescription: String {
        var text = "StorageError(\(code)): \(message)"
        if let constraint { text += " [constraint: \(constraint)]" }
        if let underlying { text += " — \(underlying)" }
        return text
    }

    static func decoding(column: String, expected: String) -> StorageError {
        StorageError(code: .decoding, message: "stored data has an unexpected shape (column \(column), expected \(expected))")
    }

    /// Whether this is a unique violation whose constraint text mentions `fragment`.
    public func isUniqueViolation(mentioning fragment: String) -> Bool {
        code == .uniqueViolation && (constraint?.contains(fragment) ?? false)
    }
}
