public import SuiteCore
public import SuiteStorage

/// A fluent, value-typed builder for a new client. Each call returns a new builder; nothing is
/// checked or written until ``create(actor:)``.
///
/// ```swift
/// let client = try await clients.make()
///     .name("Global Logistics")
///     .email("ops@global.example")
///     .reseller(ally.refid)
///     .metadata(["segment": "Logistics"])
///     .create()
/// ```
public struct ClientBuilder: Sendable {
    let clients: Clients
    var name: String?
    var email: String?
    var phone: String?
    var reseller: String?
    var userID: String?
    var metadata: Metadata = [:]
    var secretMetadata: Metadata = [:]
    /// Set by a ``ResellerPortfolio``: the only reseller this builder may create clients for.
    var portfolioReseller: Refid?

    init(clients: Clients) { self.clients = clients }

    /// The corporate or individual name (required, at most 255 characters).
    public func name(_ name: String) -> ClientBuilder { with { $0.name = name } }
    /// The primary billing/contact email (required, unique case-insensitively).
    public func email(_ email: String) -> ClientBuilder { with { $0.email = email } }
    /// A phone number (optional; digits, spaces and `+ - ( ) .`, at most 32 characters).
    public func phone(_ phone: String?) -> ClientBuilder { with { $0.phone = phone } }
    /// Attributes the client to a reseller, checked through the ``ResellerDirectory``.
    public func reseller(_ refid: Refid?) -> ClientBuilder { with { $0.reseller = refid?.rawValue } }
    /// Attributes the client to a reseller given as text (e.g. from a form or the CLI).
    public func reseller(_ refid: String?) -> ClientBuilder { with { $0.reseller = refid } }
    /// Binds a user account (1:1), checked through the ``UserDirectory``.
    public func user(_ id: String?) -> ClientBuilder { with { $0.userID = id } }
    /// Merges custom JSON data into the record; later calls win per key.
    public func metadata(_ data: Metadata) -> ClientBuilder { with { $0.metadata = $0.metadata.merging(metadata: data) } }
    /// Merges data into the encrypted field (needs `client.metadata_encryption_key`).
    public func secretMetadata(_ data: Metadata) -> ClientBuilder {
        with { $0.secretMetadata = $0.secretMetadata.merging(metadata: data) }
    }

    /// Persists the client and generates its refid.
    public func create(actor: String = "system") async throws -> Client { try await clients.create(self, actor: actor) }

    /// Persists the client inside an open transaction.
    public func create(actor: String = "system", in tx: any Transaction) throws -> Client {
        try clients.create(self, actor: actor, in: tx)
    }

    private func with(_ change: (inout ClientBuilder) -> Void) -> ClientBuilder {
        var copy = self
        change(&copy)
        return copy
    }

    func validated(policy: MetadataPolicy) throws -> ClientDraft {
        let name = try ClientValidation.name(name)
        let (email, normalized) = try ClientValidation.email(email)
        let phone = try ClientValidation.phone(phone)
        var resellerRefid: Refid?
        if let reseller {
            let trimmed = reseller.trimmingWhitespace
            guard !trimmed.isEmpty, trimmed.count <= 64, !trimmed.containsControlCharacters else {
                throw ClientError.invalidReseller("not a reseller refid")
            }
            resellerRefid = Refid(rawValue: trimmed)
        }
        let user = try userID.map(ClientValidation.userID)
        let metadataText = try policy.checkPlain(metadata)
        return ClientDraft(name: name, email: email, normalizedEmail: normalized, phone: phone, reseller: resellerRefid,
                           userID: user, metadata: metadata, metadataText: metadataText, secretMetadata: secretMetadata)
    }
}

/// A builder's values after validation.
struct ClientDraft: Sendable {
    var name: String
    var email: String
    var normalizedEmail: String
    var phone: String?
    var reseller: Refid?
    var userID: String?
    var metadata: Metadata
    var metadataText: String
    var secretMetadata: Metadata
}
