public import Foundation
public import SuiteCore
public import SuiteStorage

/// A customer: standalone, or owned by a reseller. Identified publicly by its ``refid`` only.
public struct Client: Hashable, Sendable, Codable {
    /// The public, non-sequential id (`CL-…`).
    public var refid: Refid
    /// The client's name (trimmed, 1–255 characters).
    public var name: String
    /// The email as given (trimmed). Uniqueness is decided case-insensitively.
    public var email: String
    /// A phone number (digits, spaces and `+ - ( ) .`), or nil.
    @ExplicitNull public var phone: String?
    /// Where the client is in its lifecycle.
    public var status: ClientStatus
    /// The managing reseller, or nil for a standalone client.
    @ExplicitNull public var reseller: Refid?
    /// The bound user account (1:1), if any.
    @ExplicitNull public var userID: String?
    /// Plain metadata (a JSON object).
    public var metadata: Metadata
    /// Whether an encrypted secret-metadata field is stored (read it with ``Clients/secretMetadata(of:)``).
    public var hasSecretMetadata: Bool
    /// When the client was created.
    public var createdAt: Date
    /// When the client last changed.
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

/// A client was created (published after commit, like every Client event).
public struct ClientCreated: DomainEvent {
    /// The event's name, `client.created`.
    public var name: String { "client.created" }
    /// The new client's refid.
    public var refid: Refid
    /// The status it was created in.
    public var status: ClientStatus
    /// The managing reseller, or nil for a standalone client.
    public var reseller: Refid?
}

/// A client moved between statuses.
public struct ClientStatusChanged: DomainEvent {
    /// The event's name, `client.status_changed`.
    public var name: String { "client.status_changed" }
    /// The client's refid.
    public var refid: Refid
    /// The status before the move.
    public var from: ClientStatus
    /// The status after the move.
    public var to: ClientStatus
    /// Who made the move, as recorded in the audit trail.
    public var actor: String
    /// Why, if the caller said; nil otherwise.
    public var reason: String?
    /// When the move was made.
    public var at: Date
}

/// A user was bound to a client or unbound from it.
public struct ClientUserBindingChanged: DomainEvent {
    /// The event's name, `client.user_binding_changed`.
    public var name: String { "client.user_binding_changed" }
    /// The client's refid.
    public var refid: Refid
    /// The bound user, or nil after unbinding.
    public var userID: String?
}
