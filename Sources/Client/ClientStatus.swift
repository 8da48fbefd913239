public import SuiteCore
public import SuiteStorage

/// Where a client is in its lifecycle.
///
/// | from \ action | activate | suspend | deactivate | reinstate |
/// |---|---|---|---|---|
/// | pending   | → active | denied | → inactive | denied |
/// | active    | denied | → suspended | → inactive | denied |
/// | suspended | denied | denied | → inactive | → active |
/// | inactive  | denied | denied | denied | → active |
public enum ClientStatus: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, CustomStringConvertible {
    /// New and not yet activated; active; suspended; or deactivated (see the table above).
    case pending, active, suspended, inactive

    /// The status's name: `pending`, `active`, `suspended` or `inactive`.
    public var description: String { rawValue }

    /// The same status as other modules see it.
    public var standing: ClientStanding { ClientStanding(rawValue: rawValue)! }
}

/// A lifecycle action: a move of the client state machine, whose rules are ``table``.
public enum ClientTransition: String, StateTransition {
    /// The moves, named as the audit trail records them; ``table`` says where each may start.
    case activate, suspend, deactivate, reinstate

    /// The statuses this machine moves between.
    public typealias State = ClientStatus

    /// The client lifecycle: every other start is "Status Transition Denied".
    public static let table = TransitionTable<ClientTransition>([
        .activate: .init(from: [.pending], to: .active),
        .suspend: .init(from: [.active], to: .suspended),
        .deactivate: .init(from: [.pending, .active, .suspended], to: .inactive),
        .reinstate: .init(from: [.suspended, .inactive], to: .active),
    ])

    /// The action's name, as the audit trail records it.
    public var description: String { rawValue }
}

/// What moves clients through their lifecycle, one action at a time: ``Clients`` for every client,
/// ``ResellerPortfolio`` for one reseller's. The four named moves are written once, here.
public protocol ClientLifecycle: Sendable {
    /// Applies `action` to the client with `refid` in its own transaction; an illegal move throws
    /// "Status Transition Denied" and writes nothing.
    func transition(_ action: ClientTransition, _ refid: Refid, actor: String, reason: String?) async throws -> Client
}

extension ClientLifecycle {
    /// Pending → active.
    @discardableResult @inlinable
    public func activate(_ refid: Refid, actor: String = "system", reason: String? = nil) async throws -> Client {
        try await transition(.activate, refid, actor: actor, reason: reason)
    }

    /// Active → suspended.
    @discardableResult @inlinable
    public func suspend(_ refid: Refid, actor: String = "system", reason: String? = nil) async throws -> Client {
        try await transition(.suspend, refid, actor: actor, reason: reason)
    }

    /// Pending, active or suspended → inactive.
    @discardableResult @inlinable
    public func deactivate(_ refid: Refid, actor: String = "system", reason: String? = nil) async throws -> Client {
        try await transition(.deactivate, refid, actor: actor, reason: reason)
    }

    /// Suspended or inactive → active.
    @discardableResult @inlinable
    public func reinstate(_ refid: Refid, actor: String = "system", reason: String? = nil) async throws -> Client {
        try await transition(.reinstate, refid, actor: actor, reason: reason)
    }
}

extension Clients: ClientLifecycle {}
extension ResellerPortfolio: ClientLifecycle {}
