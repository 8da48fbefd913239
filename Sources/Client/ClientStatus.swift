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
    case pending, active, suspended, inactive

    public var description: String { rawValue }

    /// The same status as other modules see it.
    public var standing: ClientStanding { ClientStanding(rawValue: rawValue)! }
}

/// A lifecycle action. Each has an explicit set of statuses it may start from and one target.
public enum ClientTransition: String, Sendable, CaseIterable, CustomStringConvertible {
    case activate, suspend, deactivate, reinstate

    /// The status a client ends in after this action.
    public var target: ClientStatus {
        switch self {
        case .activate, .reinstate: .active
        case .suspend: .suspended
        case .deactivate: .inactive
        }
    }

    /// The statuses this action may start from. Every other start is "Status Transition Denied".
    public var allowedSources: Set<ClientStatus> {
        switch self {
        case .activate: [.pending]
        case .suspend: [.active]
        case .deactivate: [.pending, .active, .suspended]
        case .reinstate: [.suspended, .inactive]
        }
    }

    public func isAllowed(from status: ClientStatus) -> Bool { allowedSources.contains(status) }

    public var description: String { rawValue }
}
