/// A code from one module's closed set of error codes: `not_found`, `insufficient_credits`…
/// Each module declares its codes as static members of its own `Code` type, whose initialiser
/// is internal to the module, so no other module (and no app) can make up a code.
public protocol ErrorCode: Hashable, Sendable, Encodable, CustomStringConvertible {
    /// The stable, snake_case text of the code: what JSON and HTTP problem details carry.
    var rawValue: String { get }
}

extension ErrorCode {
    /// The code's ``rawValue``.
    public var description: String { rawValue }

    /// A code is its text in JSON: `"not_found"`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The one shape of every error the suite throws: a code from the module's closed set and a
/// one-line message that is safe to show a user (no SQL, no type names, no secrets). Details for
/// logs go to `debugDescription`.
///
/// ```swift
/// do { try await allies.provision(reseller, cost: 500, action: "Pro", idempotencyKey: "order-42") }
/// catch let error as AllyError where error.code == .insufficientCredits { print(error) }   // Insufficient Credits: …
/// ```
public protocol CodedError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The module's own code type.
    associatedtype Code: ErrorCode
    /// What went wrong, from the module's closed set.
    var code: Code { get }
    /// Safe to show a user.
    var message: String { get }
}

extension CodedError {
    /// The user-safe ``message``.
    public var description: String { message }
    /// The type, code and message, for logs: `AllyError(not_found): …`.
    public var debugDescription: String { "\(Self.self)(\(code)): \(message)" }
}
