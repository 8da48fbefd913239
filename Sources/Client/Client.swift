public import Foundation
public import SuiteCore
public import SuiteStorage

/// A customer: standalone, or owned by a reseller. Identified publicly by its ``refid`` only.
public struct Client: Hashable, Sendable, Codable {
    /// The public, non-sequential id (`CL-…`).
    public var refid: Refid
    public var name: String
    /// The email as given (trimmed). Uniqueness is decided case-insensitively.
    public var email: String
    @ExplicitNull public var phone: String?
    public var status: ClientStatus
    /// The managing reseller, or nil for a standalone client.
    @ExplicitNull public var reseller: Refid?
    /// The bound user account (1:1), if any.
    @ExplicitNull public var userID: String?
    /// Plain metadata (a JSON object).
    public var metadata: Metadata
    /// Whether an encrypted secret-metadata field is stored (read it with ``Clients/secretMetadata(of:)``).
    public var hasSecretMetadata: Bool
    public var createdAt: Date
    public var updatedAt: Date

    /// Whether the client has no reseller.
    public var isStandalone: Bool { reseller == nil }

    /// The client as other modules see it: what a workflow that has already read the client
    /// hands to Forge or Wave, so they need not ask the directory again in the same transaction.
    public var summary: ClientSummary {
        ClientSummary(refid: refid, name: name, email: email, reseller: reseller, status: status.standing)
    }
}

/// One entry of a client's audit trail: `created`, `activate`, `suspend`, `deactivate`, `reinstate`,
/// `bind_user`, `unbind_user` or `update_metadata`, with who, when, from, to and why.
public typealias ClientAuditEntry = AuditEntry<ClientStatus>

/// Domain events of the Client module, published after commit.
public struct ClientCreated: DomainEvent {
    public var name: String { "client.created" }
    public var refid: Refid
    public var status: ClientStatus
    public var reseller: Refid?
}

public struct ClientStatusChanged: DomainEvent {
    public var name: String { "client.status_changed" }
    public var refid: Refid
    public var from: ClientStatus
    public var to: ClientStatus
    public var actor: String
    public var reason: String?
    public var at: Date
}

public struct ClientUserBindingChanged: DomainEvent {
    public var name: String { "client.user_binding_changed" }
    public var refid: Refid
    /// The bound user, or nil after unbinding.
    public var userID: String?
}
