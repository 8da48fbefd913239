public import SuiteCore

/// A failure of an API key operation; `description` is safe to show a user.
public struct APIKeyError: CodedError {
    /// What went wrong.
    public struct Code: ErrorCode {
        /// The code's snake_case text.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }

        /// A name, limit or cursor failed validation.
        public static let validation = Code("validation")
        /// No key has this refid.
        public static let notFound = Code("api_key_not_found")
        /// The key is revoked already.
        public static let statusTransitionDenied = Code("status_transition_denied")
        /// A reseller key names a reseller that does not exist.
        public static let invalidReseller = Code("invalid_reseller")
    }

    /// What went wrong.
    public var code: Code
    /// Safe to show a user.
    public var message: String

    init(_ code: Code, message: String) {
        self.code = code
        self.message = message
    }
}
