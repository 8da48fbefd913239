import SuiteCore

extension Clients {
    /// The client named by `text`: its email when it contains `@` (compared trimmed and
    /// case-insensitively), else its refid. Throws "Client Not Found" if there is none.
    ///
    /// ```swift
    /// let client = try await clients.find(refidOrEmail: "Billing@Acme.example")
    /// ```
    public func find(refidOrEmail text: String) async throws -> Client {
        guard text.contains("@") else { return try await find(Refid(rawValue: text)) }
        guard let client = try await findByEmail(text) else { throw ClientError.notFoundByEmail }
        return client
    }
}
