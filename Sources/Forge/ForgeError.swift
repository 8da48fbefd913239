public import SuiteCore

/// A failure of a Forge operation. `description` is safe to show a user (it never contains a
/// licence key); `debugDescription` adds the code for logs.
public struct ForgeError: CodedError {
    /// What went wrong. A struct so that codes can be added without breaking callers.
    public struct Code: ErrorCode {
        /// The code's snake_case text, e.g. `status_conflict`.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }

        /// A field failed validation (duration, metadata, actor, reason, limit, cursor…).
        public static let validation = Code("validation")
        /// The product is not in the ``ProductCatalog`` (or is not for sale).
        public static let invalidProduct = Code("invalid_product")
        /// The client does not exist, or is suspended or inactive.
        public static let invalidClient = Code("invalid_client")
        /// The text is not a well-formed licence key.
        public static let malformedKey = Code("malformed_key")
        /// No licence with that refid or key.
        public static let notFound = Code("not_found")
        /// The licence is not in a state that allows the action (e.g. activating a licence that is
        /// already active — the loser of two concurrent activations gets this).
        public static let statusConflict = Code("status_conflict")
        /// The licence was minted for another client.
        public static let clientMismatch = Code("client_mismatch")
        /// A signed token could not be made or read (no signing key, unknown key id…).
        public static let signing = Code("signing")
    }

    /// What went wrong.
    public var code: Code
    /// Safe to show a user; never contains a licence key.
    public var message: String

    /// An error with `code` and a user-safe `message`.
    public init(_ code: Code, message: String) {
        self.code = code
        self.message = message
    }


    static func invalid(_ field: String, _ reason: String) -> ForgeError {
        ForgeError(.validation, message: "Invalid \(field): \(reason)")
    }

    static func transitionDenied(_ move: LicenceTransition, from status: LicenceStatus) -> ForgeError {
        let message = switch move {
        case .activate where status == .revoked: "Licence Revoked: a revoked licence cannot be activated"
        case .activate: "Licence Already Activated: this licence was activated before"
        case .revoke: "Licence Revoked: this licence was already revoked"
        case .renew: "Renewal Denied: a \(status) licence cannot be renewed"
        case .expire: "Status Conflict: a \(status) licence cannot expire"
        }
        return ForgeError(.statusConflict, message: message)
    }

    static func notFound(_ what: String) -> ForgeError {
        ForgeError(.notFound, message: "Licence Not Found: no licence with this \(what)")
    }
}
